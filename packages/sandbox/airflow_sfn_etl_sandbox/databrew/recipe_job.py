"""What a DataBrew recipe job run does: read the dataset, apply the recipe, write the outputs.

The effect of a run (:mod:`..runs`): it checks for a stop or the timeout before it starts,
after the recipe and after the outputs are written; failures raise :class:`..runs.RunFailed`.
``DataCatalogOutputs`` write into existing Glue tables (:func:`.outputs.catalog_output`);
JOIN and UNION steps read their second datasets from S3 as the job's own (:func:`.inputs.read_secondary`).
``DatabaseOutputs`` (JDBC) are not emulated (the run fails saying so). The run's ``metrics`` get
``rows_in``, ``rows_out``, ``files`` and ``seconds``.
"""

from __future__ import annotations

import time
from typing import Any

from .. import state
from ..recipes import RecipeError, apply_recipe
from ..runs import RunFailed
from .inputs import read_dataset, read_secondary
from .job_runs import JobRun
from .outputs import catalog_output, write_output


def run_recipe_job(run: JobRun) -> None:
    run.checkpoint()
    job = run.job
    if job.get("DatabaseOutputs"):
        raise RunFailed("DatabaseOutputs (JDBC databases) are not emulated by the sandbox; use Outputs (S3) or "
                        "DataCatalogOutputs")
    if not job.get("Outputs") and not job.get("DataCatalogOutputs"):
        raise RunFailed(f"Job {run.name} has no Outputs or DataCatalogOutputs")
    t0 = time.monotonic()
    steps = recipe_steps(run)
    table = read_dataset(run.region, job.get("DatasetName") or "")
    run.metrics["rows_in"] = table.num_rows
    try:
        table = apply_recipe(table, steps, read_input=lambda spec: _secondary(run, spec))
    except RecipeError as exc:
        raise RunFailed(str(exc)) from None
    run.checkpoint()
    # Every catalog table is checked before anything is written.
    catalog = [catalog_output(run, table, output, number)
               for number, output in enumerate(job.get("DataCatalogOutputs") or [], start=1)]
    files = 0
    for number, output in enumerate(job.get("Outputs") or [], start=1):
        files += write_output(run, table, output, number)
    for number, (output, header) in enumerate(catalog, start=1):
        files += write_output(run, table, output, number, header=header)
    run.metrics.update(rows_out=table.num_rows, files=files, seconds=round(time.monotonic() - t0, 3))
    run.checkpoint()


def _secondary(run: JobRun, spec: dict[str, Any]) -> Any:
    """A JOIN or UNION step's second dataset, read from the sandbox's S3; problems fail the step."""
    try:
        return read_secondary(run.region, spec)
    except RunFailed as exc:
        raise RecipeError(str(exc)) from None


def recipe_steps(run: JobRun) -> list[dict[str, Any]]:
    """The steps of the recipe version the job refers to (``LATEST_PUBLISHED`` by default)."""
    ref = run.job.get("RecipeReference") or {}
    name = ref.get("Name")
    if not name:
        raise RunFailed(f"Job {run.name} has no RecipeReference (projects are not emulated)")
    version = ref.get("RecipeVersion") or "LATEST_PUBLISHED"
    try:
        recipe = state.databrew_backend(run.region).describe_recipe(name, version)
    except Exception as exc:
        detail = getattr(exc, "message", exc)
        raise RunFailed(f"Recipe {name} version {version} wasn't found: {detail}") from None
    return list(recipe.steps or [])
