"""A small Python client for the sandbox's admin endpoints (stdlib only).

sb = SandboxClient("http://127.0.0.1:4566")
sb.fail_glue_job("se2_job0", "boom")
sb.throttle("glue", rate=0.5, count=3, operations=["GetJobRun"])
sb.sns_messages("StepFunctionWorkshopTopic")
sb.log_requests(True)

The endpoints themselves are described in :mod:`airflow_sfn_etl_sandbox.admin`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class SandboxError(RuntimeError):
    """An admin endpoint answered with an error."""


class SandboxClient:
    """Admin calls on a running sandbox: reset, fault rules, SNS readback, log switches."""

    def __init__(self, endpoint_url: str, timeout: float = 30.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        url = f"{self.endpoint_url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            try:
                detail = json.loads(detail).get("error", detail)
            except (ValueError, AttributeError):
                pass
            raise SandboxError(f"{method} {path}: HTTP {err.code}: {detail}") from err
        return json.loads(raw) if raw.strip() else {}

    # -- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all state: moto's, the sandbox services' runs, and fault rules."""
        self._request("POST", "/_sandbox/reset")

    # -- faults ------------------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (see :mod:`airflow_sfn_etl_sandbox.faults`); returns it with its id."""
        return dict(self._request("POST", "/_sandbox/faults", rule))

    def clear_faults(self) -> None:
        self._request("DELETE", "/_sandbox/faults")

    def faults(self) -> dict[str, Any]:
        """``{"call_rules": [...], "run_rules": [...], "injected": n}``."""
        return dict(self._request("GET", "/_sandbox/faults"))

    def fail(
        self,
        target: str,
        name: str | None = None,
        message: str | None = None,
        pattern: str | None = None,
        count: int | None = None,
    ) -> dict[str, Any]:
        """Make runs of ``target`` (``glue_job``, ``athena_query``, ...) named ``name`` fail.

        With ``count``, only the next ``count`` matching runs fail.
        """
        rule: dict[str, Any] = {"kind": "fail", "target": target}
        rule.update({k: v for k, v in {"name": name, "pattern": pattern, "message": message,
                                       "count": count}.items() if v is not None})
        return self.add_fault(**rule)

    def delay(
        self, target: str, name: str | None = None, seconds: float = 5.0, pattern: str | None = None
    ) -> dict[str, Any]:
        """Make runs of ``target`` named ``name`` (or matching ``pattern``) take ``seconds`` longer."""
        rule: dict[str, Any] = {"kind": "delay", "target": target, "seconds": seconds}
        rule.update({k: v for k, v in {"name": name, "pattern": pattern}.items() if v})
        return self.add_fault(**rule)

    def fail_glue_job(self, name: str, message: str | None = None) -> dict[str, Any]:
        return self.fail("glue_job", name, message)

    def fail_databrew_job(self, name: str, message: str | None = None) -> dict[str, Any]:
        return self.fail("databrew_job", name, message)

    def fail_crawler(self, name: str, message: str | None = None) -> dict[str, Any]:
        return self.fail("crawler", name, message)

    def fail_query(self, pattern: str, message: str | None = None) -> dict[str, Any]:
        """Fail Athena queries whose text matches the regex ``pattern``."""
        return self.fail("athena_query", pattern=pattern, message=message)

    def call_fault(
        self,
        kind: str,
        service: str,
        rate: float = 1.0,
        count: int | None = None,
        operations: list[str] | None = None,
        seed: int | None = None,
        when: str = "before",
    ) -> dict[str, Any]:
        """Answer a share ``rate`` of ``service`` calls (at most ``count``) with a ``kind`` error.

        ``kind`` is ``throttle`` (ThrottlingException) or ``error500`` (HTTP 500);
        ``when="after"`` runs the call first and then answers the error (a lost response).
        """
        return self.add_fault(kind=kind, service=service, rate=rate, count=count,
                              operations=list(operations or []), seed=seed, when=when)

    def throttle(self, service: str, **options: Any) -> dict[str, Any]:
        """Throttle a share of ``service`` calls (options as :meth:`call_fault`)."""
        return self.call_fault("throttle", service, **options)

    def error500(self, service: str, **options: Any) -> dict[str, Any]:
        """Answer a share of ``service`` calls with HTTP 500 (options as :meth:`call_fault`)."""
        return self.call_fault("error500", service, **options)

    # -- SNS ---------------------------------------------------------------------------------
    def sns_messages(self, topic: str) -> list[dict[str, Any]]:
        """Messages published to ``topic`` (ARN or name), oldest first."""
        return list(self._request("GET", "/_sandbox/sns/messages", query={"topic": topic})["messages"])

    # -- looking inside ----------------------------------------------------------------------
    def log_requests(self, on: bool = True) -> dict[str, Any]:
        """Turn the per-request log (``service operation -> status (ms)``) on or off; returns the switches."""
        return dict(self._request("POST", "/_sandbox/log", {"requests": bool(on)}))

    def record_calls(self, on: bool = True) -> None:
        """Start (emptying the record) or stop keeping every answered AWS call (``/_sandbox/calls``)."""
        self._request("POST", "/_sandbox/calls", {"recording": bool(on)})

    def recorded_calls(self) -> list[dict[str, Any]]:
        """The calls kept since recording started: ``{"service", "operation", "status", "region",
        "access_key", "params", "headers"}`` each."""
        return list(self._request("GET", "/_sandbox/calls")["calls"])

    def log_switches(self) -> dict[str, Any]:
        """``{"requests": bool}``: whether the per-request log is on."""
        return dict(self._request("GET", "/_sandbox/log"))
