"""The machine and software versions the figures were measured on."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return float("nan")


def describe() -> list[tuple[str, str]]:
    """(name, value) pairs: CPU, cores, memory, OS, Python and the packages that matter."""
    rows = [
        ("CPU", _cpu_model()),
        (
            "cores (usable)",
            str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        ),
        ("memory", f"{_mem_gib():.1f} GiB"),
        ("load average at start", " ".join(f"{v:.2f}" for v in os.getloadavg())),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
    ]
    for dist in (
        "apache-airflow",
        "apache-airflow-providers-amazon",
        "airflow-sfn-etl",
        "moto",
        "boto3",
        "duckdb",
        "pyarrow",
        "aiobotocore",
    ):
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    return rows
