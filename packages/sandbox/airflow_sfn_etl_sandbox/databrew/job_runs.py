"""A DataBrew job run: its state (the shared lifecycle) and its DescribeJobRun description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..runs import Run, RunRegistry, States

ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
FINAL_STATES = ("STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT")


@dataclass(kw_only=True, eq=False)
class JobRun(Run):
    """One run of a DataBrew job, as DescribeJobRun reports it."""

    STATES: ClassVar[States] = States(initial="STARTING", final=frozenset(FINAL_STATES))
    FAULT_TARGET: ClassVar[str] = "databrew_job"
    INTERNAL_ERROR: ClassVar[str] = "Sandbox internal error: "

    job: dict[str, Any]  #: moto's job description when the run started
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        return self.name

    def as_dict(self) -> dict[str, Any]:
        job = self.job
        out: dict[str, Any] = {
            "Attempt": 0,
            "JobName": self.name,
            "RunId": self.id,
            "State": self.state,
            "StartedOn": self.started_on,
            "StartedBy": f"arn:aws:iam::{job.get('AccountId', '123456789012')}:user/sandbox",
            "ExecutionTime": int(round(self.run_seconds)) if not self.active else int(self.elapsed_seconds()),
            "LogSubscription": job.get("LogSubscription") or "ENABLE",
            "LogGroupName": f"/aws-glue-databrew/jobs/{self.name}",
        }
        for key in ("DatasetName", "Outputs", "DataCatalogOutputs", "DatabaseOutputs", "RecipeReference",
                    "JobSample", "ValidationConfigurations"):
            if job.get(key):
                out[key] = job[key]
        if job.get("Configuration"):
            out["ProfileConfiguration"] = job["Configuration"]
        if self.completed_on is not None:
            out["CompletedOn"] = self.completed_on
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out


#: Every DataBrew job run the sandbox knows, per (region, job name).
RUNS: RunRegistry[JobRun] = RunRegistry()
