"""``airflow-sfn-etl sandbox``: foreground server, printed settings, Ctrl-C, state kept in --data-dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3

from airflow_sfn_etl.cli import build_parser

START = [
    sys.executable,
    "-c",
    "import sys; from airflow_sfn_etl.cli import main; sys.exit(main(sys.argv[1:]))",
]


def test_parser_options():
    args = build_parser().parse_args(["sandbox", "--port", "0", "--data-dir", "/tmp/x"])
    assert args.port == 0 and args.data_dir == "/tmp/x" and callable(args.func)
    assert build_parser().parse_args(["sandbox"]).port == 4566


def _start(data_dir) -> tuple[subprocess.Popen, list[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [*START, "sandbox", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, f"sandbox exited early: {lines}"
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return proc, lines, time.perf_counter() - began


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_cli_starts_prints_settings_and_keeps_state(tmp_path):
    proc, lines, seconds = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        print(f"sandbox CLI ready in {seconds:.2f}s")
        assert f"  export AWS_ENDPOINT_URL={endpoint}" in lines
        conn = next(line for line in lines if "AIRFLOW_CONN_AWS_DEFAULT" in line)
        assert endpoint in conn and conn.startswith("  export AIRFLOW_CONN_AWS_DEFAULT='{")
        s3 = _client("s3", endpoint)
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k.txt", Body=b"survives")
        _client("glue", endpoint).create_database(DatabaseInput={"Name": "kept_db"})
    finally:
        out = _stop(proc)
    assert "saved state to" in out and "AWS sandbox stopped." in out
    assert (tmp_path / "state" / "moto-state.pickle").exists()

    proc, lines, _ = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        assert "restored" in lines[0]
        assert _client("s3", endpoint).get_object(Bucket="kept", Key="k.txt")["Body"].read() == b"survives"
        assert _client("glue", endpoint).get_database(Name="kept_db")["Database"]["Name"] == "kept_db"
    finally:
        _stop(proc)


def test_ctrl_c_right_after_the_banner_stops_cleanly(tmp_path):
    """A Ctrl-C that lands as soon as the banner is out (before the CLI waits) still saves, stops and exits 0."""
    for attempt in range(3):
        proc, _, _ = _start(tmp_path / f"data{attempt}")
        out = _stop(proc)
        assert out.rstrip().endswith("AWS sandbox stopped."), out
