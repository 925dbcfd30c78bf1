"""Process-wide sandbox settings shared by the service handlers (endpoint, data dir, workers)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypedDict, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class _State(TypedDict, total=False):
    endpoint_url: str
    data_dir: Path
    pool: ThreadPoolExecutor


_state: _State = {}


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


def submit(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """Run ``fn`` in the background (a crawl, a job run, a query)."""
    pool = _state.get("pool")
    if pool is None:
        pool = _state["pool"] = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sandbox-run")
    return pool.submit(fn, *args, **kwargs)


def shutdown() -> None:
    pool = _state.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
