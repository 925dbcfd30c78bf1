"""Deterministic identities for one task try chain (used to re-attach instead of starting twice).

A *try chain* is the sequence of tries Airflow makes for one task instance between two clears:
the first try and its automatic retries. Airflow sets ``max_tries = try_number + retries`` when a
task is cleared, so ``max_tries - retries + 1`` is the number of the chain's first try. It stays
the same for every retry of the chain and changes when the task is cleared, which makes it the
right thing to key "the AWS run this task already started" on.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import RuntimeTaskInstanceProtocol

SFN_NAME_MAX = 80
_SFN_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]+")
#: A name Step Functions accepts for a state machine or an execution.
SFN_NAME_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{1,{SFN_NAME_MAX}}}$")


def _ti(context: Context) -> RuntimeTaskInstanceProtocol:
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        raise ValueError("The task context has no 'ti'; run the operator inside an Airflow task.")
    return ti


def try_chain(context: Context) -> int:
    """Return the first try number of the current try chain (1 until the task is cleared)."""
    ti = _ti(context)
    max_tries = getattr(ti, "max_tries", None)
    task = context.get("task") or getattr(ti, "task", None)
    retries = getattr(task, "retries", None)
    if isinstance(max_tries, int) and isinstance(retries, int) and max_tries >= retries:
        return max_tries - retries + 1
    return 1


def earlier_tries(context: Context) -> int:
    """Return how many tries of the current try chain came before this one (0 on its first try)."""
    try_number = getattr(_ti(context), "try_number", None)
    if not isinstance(try_number, int):
        return 0
    return max(0, try_number - try_chain(context))


def run_key(context: Context) -> str:
    """Return ``dag_id/run_id/task_id[/map_index][#chain]`` identifying this task's try chain."""
    ti = _ti(context)
    dag_id = getattr(ti, "dag_id", None) or context["dag"].dag_id
    run_id = context.get("run_id") or ti.run_id
    task_id = getattr(ti, "task_id", None) or context["task"].task_id
    key = f"{dag_id}/{run_id}/{task_id}"
    map_index = getattr(ti, "map_index", -1)
    if isinstance(map_index, int) and map_index >= 0:
        key += f"/{map_index}"
    chain = try_chain(context)
    if chain > 1:
        key += f"#{chain}"
    return key


def idempotency_token(context: Context, *parts: str) -> str:
    """Return a 64-character hex token from the run key and ``parts`` (e.g. a query text)."""
    digest = hashlib.sha256(run_key(context).encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def sfn_name(raw: str, *, suffix: str = "") -> str:
    """Sanitize ``raw`` to a Step Functions execution name (80 chars of ``[A-Za-z0-9-_]``).

    A name that had to be shortened ends with 8 hex characters of the raw text's hash, so two
    long keys that share a prefix still get different names.
    """
    name = _SFN_NAME_BAD.sub("_", raw).strip("_") or "execution"
    limit = SFN_NAME_MAX - len(suffix)
    if len(name) > limit:
        tag = hashlib.sha256(raw.encode()).hexdigest()[:8]
        name = f"{name[: limit - 9]}-{tag}"
    return name + suffix


def sfn_execution_name(context: Context) -> str:
    """Return the default execution name for this task's try chain."""
    return sfn_name(run_key(context).replace("/", "__").replace("#", "__c"))
