"""A Glue job run: the job definition it started from, its state (the shared lifecycle), its description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..runs import Run, RunRegistry, States
from .logs import log_group_for

ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
FINAL_STATES = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")


@dataclass
class JobSpec:
    """The parts of a job definition a run needs, copied when the run starts."""

    name: str
    command: dict[str, Any]
    default_arguments: dict[str, str]
    non_overridable_arguments: dict[str, str]
    max_retries: int
    timeout: int | None
    glue_version: str | None
    worker_type: str | None
    number_of_workers: int | None
    max_capacity: float | None
    allocated_capacity: int | None
    execution_class: str | None

    @classmethod
    def from_moto(cls, job: Any) -> JobSpec:
        return cls(
            name=job.name, command=dict(job.command or {}),
            default_arguments=dict(job.default_arguments or {}),
            non_overridable_arguments=dict(job.non_overridable_arguments or {}),
            max_retries=int(job.max_retries or 0), timeout=job.timeout,
            glue_version=job.glue_version, worker_type=job.worker_type,
            number_of_workers=job.number_of_workers, max_capacity=job.max_capacity,
            allocated_capacity=job.allocated_capacity, execution_class=job.execution_class,
        )

    @property
    def kind(self) -> str:
        """The job's ``Command.Name`` (``pythonshell``, ``glueetl``, ...); Glue's default is glueetl."""
        return str(self.command.get("Name") or "glueetl")


@dataclass(kw_only=True, eq=False)
class JobRun(Run):
    """One run of a Glue job, as GetJobRun reports it."""

    STATES: ClassVar[States] = States(initial="STARTING", final=frozenset(FINAL_STATES))
    FAULT_TARGET: ClassVar[str] = "glue_job"
    INTERNAL_ERROR: ClassVar[str] = "Sandbox internal error while running the job: "

    spec: JobSpec
    arguments: dict[str, str]
    attempt: int = 0
    previous_run_id: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        return self.name

    @property
    def log_group(self) -> str:
        return log_group_for(self.spec.kind)

    def next_attempt(self) -> JobRun | None:
        """A failed run is retried while its job's ``MaxRetries`` allows."""
        if self.state != self.STATES.failed or self.attempt >= self.spec.max_retries:
            return None
        root = self.previous_run_id if self.attempt and self.previous_run_id else self.id
        root = root.split("_attempt_")[0]
        return JobRun(id=f"{root}_attempt_{self.attempt + 1}", name=self.name, region=self.region,
                      spec=self.spec, arguments=dict(self.arguments), timeout=self.timeout,
                      timeout_seconds=self.timeout_seconds, attempt=self.attempt + 1,
                      previous_run_id=self.id, overrides=dict(self.overrides))

    def as_dict(self) -> dict[str, Any]:
        spec = self.spec
        out: dict[str, Any] = {
            "Id": self.id,
            "Attempt": self.attempt,
            "JobName": self.name,
            "JobMode": "SCRIPT",
            "StartedOn": self.started_on,
            "LastModifiedOn": self.last_modified_on,
            "JobRunState": self.state,
            "Arguments": dict(self.arguments),
            "PredecessorRuns": [],
            "ExecutionTime": int(round(self.run_seconds)) if not self.active else int(self.elapsed_seconds()),
            "Timeout": self.timeout,
            "LogGroupName": self.log_group,
            "GlueVersion": self.overrides.get("GlueVersion") or spec.glue_version or (
                "3.0" if spec.kind == "pythonshell" else "4.0"),
            "ExecutionClass": self.overrides.get("ExecutionClass") or spec.execution_class or "STANDARD",
        }
        max_capacity = self.overrides.get("MaxCapacity") or spec.max_capacity
        if spec.kind == "pythonshell":
            out["MaxCapacity"] = max_capacity if max_capacity is not None else 0.0625
            out["AllocatedCapacity"] = 0
        else:
            ov = self.overrides
            for key, value in (("WorkerType", ov.get("WorkerType") or spec.worker_type),
                               ("NumberOfWorkers", ov.get("NumberOfWorkers") or spec.number_of_workers),
                               ("MaxCapacity", max_capacity),
                               ("AllocatedCapacity", ov.get("AllocatedCapacity") or spec.allocated_capacity)):
                if value is not None:
                    out[key] = value
        if self.completed_on is not None:
            out["CompletedOn"] = self.completed_on
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.previous_run_id:
            out["PreviousRunId"] = self.previous_run_id
        for key in ("SecurityConfiguration", "NotificationProperty"):
            if self.overrides.get(key):
                out[key] = self.overrides[key]
        return out


#: Every Glue job run the sandbox knows, per (region, job name).
RUNS: RunRegistry[JobRun] = RunRegistry()
