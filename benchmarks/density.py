"""Section 5: how many deferred waits one triggerer event loop holds, with its CPU and memory.

The sandbox runs in its own process; in a fresh Python process (a stand-in for the triggerer)
``N`` of our ``GlueJobTrigger`` instances wait on a running Glue job run in one asyncio loop, at
their real poll schedule (5 s, x1.5 backoff, 60 s cap), for ``hold_seconds``. Measured: process
RSS growth per trigger, CPU seconds per second held, polls made, and event-loop lag (how late a
0.1 s ticker wakes: what every other trigger on that triggerer suffers). The stock deferrable
``GlueJobCompleteTrigger`` needs aiobotocore (not installed), so the stock figure is the
non-deferrable way: one worker process per wait, whose RSS is measured the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .results import Section
from .stats import median

_TRIGGERER = r"""
import asyncio, json, sys, time, psutil
n, hold, job, run_id = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
own_hooks = sys.argv[5] == "1"
from airflow_sfn_etl.triggers.glue import GlueJobTrigger
if own_hooks:  # the behaviour before hooks were shared: every trigger builds its own hook and client
    from functools import cached_property
    def own_hook(self):
        return self.hook_class(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify,
                               config=self.botocore_config)
    prop = cached_property(own_hook)
    prop.__set_name__(GlueJobTrigger, "hook")
    GlueJobTrigger.hook = prop
import logging; logging.disable(logging.WARNING)
proc = psutil.Process()
polls = 0
check = GlueJobTrigger.check
def counting(self, hook):
    global polls
    polls += 1
    return check(self, hook)
GlueJobTrigger.check = counting
async def consume(trigger):
    async for _ in trigger.run():
        return
async def main():
    lags, peak = [], proc.memory_info().rss
    rss0 = peak
    async def ticker():
        nonlocal peak
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.1)
            lags.append(time.perf_counter() - t - 0.1)
            peak = max(peak, proc.memory_info().rss)
    tick = asyncio.ensure_future(ticker())
    cpu0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
    triggers = [GlueJobTrigger(job_name=job, run_id=run_id) for _ in range(n)]
    tasks = [asyncio.ensure_future(consume(t)) for t in triggers]
    await asyncio.sleep(hold)
    cpu, wall = sum(proc.cpu_times()[:2]) - cpu0, time.perf_counter() - t0
    done = sum(t.done() for t in tasks)
    for t in tasks + [tick]:
        t.cancel()
    await asyncio.gather(*tasks, tick, return_exceptions=True)
    lags.sort()
    print("BENCH-RESULT " + json.dumps({"rss0": rss0, "peak": peak, "cpu": cpu, "wall": wall, "polls": polls,
        "ended_early": done, "lag_p50": lags[len(lags) // 2], "lag_max": lags[-1],
        "lag_p99": lags[int(len(lags) * 0.99)]}))
asyncio.run(main())
"""

_WORKER = r"""
import json, sys, psutil
from airflow.providers.amazon.aws.hooks.glue import GlueJobHook
import logging; logging.disable(logging.WARNING)
hook = GlueJobHook(aws_conn_id="aws_default")
hook.conn.get_job_run(JobName=sys.argv[1], RunId=sys.argv[2])
print("BENCH-RESULT " + json.dumps({"rss": psutil.Process().memory_info().rss}))
"""


def _result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return dict(json.loads(line[len("BENCH-RESULT ") :]))
    raise RuntimeError(f"benchmark subprocess failed: {done.stderr[-3000:]}")


def _start_sandbox(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from airflow_sfn_etl_sandbox.server import free_port

    port = free_port()
    log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 (kept open for the child)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from airflow_sfn_etl.cli import main; sys.exit(main())",
            "sandbox",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"sandbox did not start: {(workdir / 'sandbox.log').read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the sandbox process group we started: SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def measure(
    *, counts: tuple[int, ...], hold_seconds: float, before_count: int = 0, worker_repeats: int = 2
) -> Section:
    import boto3

    from airflow_sfn_etl_sandbox.client import SandboxClient
    from airflow_sfn_etl_sandbox.server import Sandbox

    from .parse_compile import airflow_env

    workdir = Path(tempfile.mkdtemp(prefix="sfn-etl-bench-density-"))
    sandbox, url = _start_sandbox(workdir)
    section = Section(
        "density",
        "5. Triggerer density: deferred Glue waits in one triggerer event loop",
        [
            "waits",
            "held s",
            "polls made",
            "RSS growth MiB",
            "KiB per wait",
            "CPU s per s held",
            "loop lag p50 ms",
            "loop lag p99 ms",
            "loop lag max ms",
        ],
    )
    try:
        env = airflow_env(workdir / "home")
        env.update(Sandbox(port=int(url.rsplit(":", 1)[1])).env())
        session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        s3, glue = session.client("s3", endpoint_url=url), session.client("glue", endpoint_url=url)
        s3.create_bucket(Bucket="bench-density")
        s3.put_object(Bucket="bench-density", Key="noop.py", Body=b"print('ok')\n")
        glue.create_job(
            Name="bench_density",
            Role="arn:aws:iam::123456789012:role/bench",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://bench-density/noop.py"},
        )
        SandboxClient(url).delay("glue_job", "bench_density", seconds=3600)
        run_id = glue.start_job_run(JobName="bench_density")["JobRunId"]
        runs = (
            [(n, False) for n in counts] + [(before_count, True)]
            if before_count
            else [(n, False) for n in counts]
        )
        for n, own in runs:
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _TRIGGERER,
                    str(n),
                    str(hold_seconds),
                    "bench_density",
                    run_id,
                    "1" if own else "0",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=hold_seconds + 600,
            )
            r = _result(done)
            growth = (r["peak"] - r["rss0"]) / 2**20
            label = f"{n} (one hook per trigger, before this change)" if own else n
            section.add(
                label,
                r["wall"],
                r["polls"],
                growth,
                growth * 1024 / n,
                r["cpu"] / r["wall"],
                r["lag_p50"] * 1000,
                r["lag_p99"] * 1000,
                r["lag_max"] * 1000,
            )
            if own:
                section.figures[f"before.kib_per_wait[{n}]"] = growth * 1024 / n
                section.figures[f"before.polls[{n}]"] = r["polls"]
            else:
                section.figures[f"kib_per_wait[{n}]"] = growth * 1024 / n
                section.figures[f"cpu_per_s[{n}]"] = r["cpu"] / r["wall"]
            section.figures[f"lag_max_ms[{n}]"] = r["lag_max"] * 1000
        if worker_repeats:
            worker = (
                median(
                    [
                        _result(
                            subprocess.run(
                                [sys.executable, "-c", _WORKER, "bench_density", run_id],
                                env=env,
                                capture_output=True,
                                text=True,
                                timeout=300,
                            )
                        )["rss"]
                        for _ in range(worker_repeats)
                    ]
                )
                / 2**20
            )
            section.figures["stock_worker_rss_mib"] = worker
            section.notes.append(
                "Stock, non-deferrable: every wait holds a worker slot; one process that has imported "
                "Airflow "
                f"and the amazon provider and polled GetJobRun once has an RSS of {worker:.0f} MiB (a lower "
                "bound: an Airflow 3 task runs as a supervisor + task process pair), i.e. "
                f"{worker * 1000 / 1024:.0f} GiB for 1,000 waits, against the KiB per wait above."
            )
        section.notes += [
            "Stock, deferrable (GlueJobCompleteTrigger): not measurable, aiobotocore is not installed.",
            "Polls expected per wait in the held time at our schedule (first poll at once, then 5, 7.5, "
            "11.25 s ...): a row with far fewer polls than waits x that means the loop could not keep up.",
            "The sandbox answers from another process on the same 2 cores; polls made are GetJobRun calls.",
        ]
    finally:
        _stop(sandbox)
    return section
