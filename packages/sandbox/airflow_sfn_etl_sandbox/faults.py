"""Fault injection: throttling / HTTP 500 on a share of a service's calls, and named failures.

Rules are set through the admin endpoint ``/_sandbox/faults`` (POST a JSON rule, DELETE to
clear, GET to list) or from Python with :class:`airflow_sfn_etl_sandbox.client.SandboxClient`.

A *call* rule: ``{"kind": "throttle"|"error500", "service": "glue", "operations": ["GetJobRun"],
"rate": 0.5, "count": 3, "seed": 1}`` answers a share (``rate``) of matching calls, at most
``count`` times, with ``ThrottlingException`` or HTTP 500. ``"when": "before"`` (the default)
rejects the call before it runs; ``"when": "after"`` runs the call, then answers the error
instead of its response: the *lost response* case, where the caller cannot tell that the run
it asked for was started (a retried StartJobRun then starts a second run unless the caller
re-attaches).

A *run* rule: ``{"kind": "fail"|"delay", "target": "glue_job"|"databrew_job"|"crawler"|"athena_query",
"name": "se2_job0" | "pattern": "regex", "message": "...", "seconds": 5, "count": 1}``: a run
asks :func:`run_faults` when it starts (:mod:`.runs` does it for crawls, Glue and DataBrew job
runs) and fails with ``message`` or takes ``seconds`` longer; with ``count`` only the next
``count`` matching runs do (a transient failure that a retry gets past).
"""

from __future__ import annotations

import json
import random
import re
import threading
from typing import Any

from .admin import admin_route, json_answer
from .aws import AwsError, Call, Response

_lock = threading.Lock()
_call_rules: list[dict[str, Any]] = []
_run_rules: list[dict[str, Any]] = []
_counters: dict[str, int] = {"injected": 0}
_rng = random.Random(0)

CALL_KINDS = {"throttle", "error500"}
CALL_WHEN = ("before", "after")
RUN_KINDS = {"fail", "delay"}
RUN_TARGETS = {"glue_job", "databrew_job", "crawler", "athena_query", "sfn_execution"}


def add_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Validate and add a fault rule; returns it with its id."""
    kind = rule.get("kind")
    with _lock:
        if kind in CALL_KINDS:
            if not rule.get("service"):
                raise ValueError("a throttle/error500 fault needs 'service' (e.g. 'glue')")
            rule = {"rate": 1.0, "count": None, "operations": [], "when": "before", **rule}
            if rule["when"] not in CALL_WHEN:
                raise ValueError(f"'when' must be one of {list(CALL_WHEN)}, not {rule['when']!r}")
            rule["remaining"] = rule["count"]
            if rule.get("seed") is not None:
                _rng.seed(rule["seed"])
            _call_rules.append(rule)
        elif kind in RUN_KINDS:
            if rule.get("target") not in RUN_TARGETS:
                raise ValueError(f"a {kind} fault needs 'target', one of {sorted(RUN_TARGETS)}")
            if not rule.get("name") and not rule.get("pattern"):
                raise ValueError(f"a {kind} fault needs 'name' or 'pattern' to say which run it hits")
            if kind == "delay" and not isinstance(rule.get("seconds"), (int, float)):
                raise ValueError("a delay fault needs 'seconds' (a number)")
            count = rule.get("count")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
                raise ValueError(f"'count' must be a whole number of runs (1 or more), not {count!r}")
            rule = {**rule, "count": count, "remaining": count}
            _run_rules.append(rule)
        else:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(CALL_KINDS | RUN_KINDS)}")
        rule["id"] = len(_call_rules) + len(_run_rules)
        return rule


def clear() -> None:
    with _lock:
        _call_rules.clear()
        _run_rules.clear()
        _counters["injected"] = 0


def injected() -> int:
    return _counters["injected"]


def _matching_call_rule(call: Call, when: str) -> dict[str, Any] | None:
    """Consume and return the first call rule of phase ``when`` that fires for ``call``."""
    if not _call_rules:
        return None
    with _lock:
        for rule in _call_rules:
            if rule.get("when", "before") != when or rule["service"] != call.service:
                continue
            if rule["operations"] and call.operation not in rule["operations"]:
                continue
            if rule["remaining"] is not None and rule["remaining"] <= 0:
                continue
            if _rng.random() >= rule["rate"]:
                continue
            if rule["remaining"] is not None:
                rule["remaining"] -= 1
            _counters["injected"] += 1
            return rule
    return None


def _error(rule: dict[str, Any], call: Call) -> AwsError:
    if rule["kind"] == "throttle":
        code = "Throttling" if call.protocol == "query" else (
            "SlowDown" if call.service == "s3" else "ThrottlingException")
        return AwsError(code, f"Rate exceeded (sandbox fault on {call.service}.{call.operation})", 400)
    return AwsError("InternalFailure" if call.service != "s3" else "InternalError",
                    f"sandbox fault: HTTP 500 on {call.service}.{call.operation}", 500)


def before_call(call: Call) -> None:
    """Raise an injected error for this call, before it runs, if a ``before`` rule says so."""
    rule = _matching_call_rule(call, "before")
    if rule is not None:
        raise _error(rule, call)


def after_call(call: Call) -> None:
    """Raise an injected error for a call that already ran, if an ``after`` rule says so."""
    rule = _matching_call_rule(call, "after")
    if rule is not None:
        raise _error(rule, call)


def run_faults(target: str, name: str) -> tuple[str | None, float]:
    """(failure message or None, extra seconds) for a run of ``target`` named ``name``."""
    message: str | None = None
    delay = 0.0
    with _lock:
        rules = [r for r in _run_rules if r["target"] == target and r["remaining"] != 0 and (
            r.get("name") == name or (r.get("pattern") and re.search(r["pattern"], name)))]
        for rule in rules:
            if rule["remaining"] is not None:
                rule["remaining"] -= 1
        _counters["injected"] += len(rules)
    for rule in rules:
        if rule["kind"] == "fail" and message is None:
            message = rule.get("message") or f"sandbox fault: {target} {name} failed"
        if rule["kind"] == "delay":
            delay += float(rule["seconds"])
    return message, delay


@admin_route("faults")
def _faults_admin(method: str, query: dict[str, Any], body: bytes) -> Response:
    """``/_sandbox/faults``: POST adds a rule, DELETE clears them, GET lists them (see :mod:`.admin`)."""
    if method == "POST":
        try:
            rule = add_rule(json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            return json_answer(400, {"error": str(exc)})
        return json_answer(200, rule)
    if method == "DELETE":
        clear()
        return json_answer(200, {})
    with _lock:
        data = {"call_rules": _call_rules, "run_rules": _run_rules, "injected": _counters["injected"]}
    return json_answer(200, data)
