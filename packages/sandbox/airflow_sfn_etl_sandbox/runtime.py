"""Process-wide sandbox settings shared by the service handlers (endpoint, data dir, workers)."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_state: dict[str, object] = {}


def configure(*, endpoint_url: str, data_dir: Path | None) -> None:
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="aws-sandbox-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    _state["endpoint_url"] = endpoint_url
    _state["data_dir"] = data_dir
    _state.setdefault("pool", ThreadPoolExecutor(max_workers=16, thread_name_prefix="sandbox-run"))


def endpoint_url() -> str:
    return str(_state["endpoint_url"])


def data_dir() -> Path:
    return Path(str(_state["data_dir"]))


def submit(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``fn`` in the background (a crawl, a job run, a query)."""
    pool = _state.get("pool")
    if pool is None:
        pool = _state["pool"] = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sandbox-run")
    return pool.submit(fn, *args, **kwargs)  # type: ignore[union-attr]


def shutdown() -> None:
    pool = _state.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)  # type: ignore[union-attr]
