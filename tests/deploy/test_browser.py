"""The monthly refresh triggered from the Airflow 3 UI in a real (headless Chromium) browser.

Starts Airflow (api-server, scheduler, dag-processor, triggerer; SQLite, LocalExecutor) and
the AWS sandbox on loopback (``scripts/ui_stack.py``), provisions the flow's resources, logs
in, opens ``sales_marketing_refresh``, fills the trigger form with a non-default month,
triggers, waits for the run to succeed and screenshots the form and the graph view (into the
test's tmp_path; with ``SFN_ETL_UPDATE_SCREENSHOTS=1`` also into ``docs/screenshots/``). Needs ``/usr/bin/chromium``
(``scripts/install-browser-deps.sh``); Playwright drives it, nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import stacks
from .compose import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

DAG_ID = "sales_marketing_refresh"
MONTH = "2016-12"
RUN_ID = "ui_trigger_month_2016_12"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
RUN_TIMEOUT = 480.0
TERMINAL = {"success", "failed"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Airflow + sandbox, provisioned; every process group is ended afterwards, pass or fail."""
    ui_stack = stacks.load("ui_stack")
    running = ui_stack.UiStack(workdir=tmp_path_factory.mktemp("ui-stack"))
    running.start()
    try:
        yield running
    finally:
        running.stop()
    assert all(proc.poll() is not None for proc in running.procs.values())


def _wait_for_dag(stack: Any, timeout: float = 180) -> dict[str, Any]:
    """The DAG's details, once the dag-processor has parsed and stored it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return stack.api("GET", f"/dags/{DAG_ID}/details")
        except urllib.error.HTTPError as err:
            if err.code != 404 or time.monotonic() > deadline:
                raise AssertionError(f"{DAG_ID} never appeared in the API:\n{stack.diagnostics()}") from err
            time.sleep(2)


def _wait_for_run(stack: Any) -> dict[str, Any]:
    """Poll the run until it ends; runs the schedule creates on unpause are failed, not awaited."""
    deadline = time.monotonic() + RUN_TIMEOUT
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        runs = stack.api("GET", f"/dags/{DAG_ID}/dagRuns?limit=50")["dag_runs"]
        for other in runs:
            if other["run_type"] == "scheduled" and other["state"] not in TERMINAL:
                stack.api("PATCH", f"/dags/{DAG_ID}/dagRuns/{other['dag_run_id']}", {"state": "failed"})
        run = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{RUN_ID}")
        if run["state"] in TERMINAL:
            return run
        time.sleep(5)
    raise AssertionError(f"run {RUN_ID} still {run.get('state')} after {RUN_TIMEOUT:.0f}s:\n"
                         f"{_task_report(stack)}\n{stack.diagnostics()}")


def _task_report(stack: Any) -> str:
    """Each task's state and, for failed ones, the end of its log."""
    lines = []
    tis = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances")["task_instances"]
    for ti in sorted(tis, key=lambda t: t["task_id"]):
        lines.append(f"{ti['task_id']}: {ti['state']} (try {ti['try_number']})")
        if ti["state"] in ("failed", "up_for_retry") and ti["try_number"]:
            try:
                log = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances/{ti['task_id']}"
                                       f"/logs/{ti['try_number']}?full_content=true")
                text = "\n".join(_log_line(e) for e in log.get("content", []))
                lines.append("    " + "\n    ".join(text.splitlines()[-25:]))
            except urllib.error.HTTPError as err:
                lines.append(f"    (log unavailable: {err})")
    return "\n".join(lines)


def _log_line(entry: Any) -> str:
    """One structured task-log entry as text, with the exception it carries (``error_detail``)."""
    if not isinstance(entry, dict):
        return str(entry)
    text = str(entry.get("event", entry))
    for error in entry.get("error_detail") or []:
        if isinstance(error, dict):
            text += f"\n  {error.get('exc_type')}: {error.get('exc_value')}"
    return text


def _save(path: Path, tmp_path: Path) -> None:
    """Keep a screenshot in the test's output; with ``SFN_ETL_UPDATE_SCREENSHOTS=1`` also in docs/screenshots/."""
    assert path.parent == tmp_path
    assert path.stat().st_size > 10_000
    if os.environ.get("SFN_ETL_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / path.name)


def test_params_reach_the_ui_api(stack: Any) -> None:
    details = _wait_for_dag(stack)
    params = details["params"]
    assert params["month"]["schema"]["title"] == "Month to refresh"
    for name, param in params.items():
        assert param["schema"].get("title"), name
        assert param.get("description"), name
        assert param["schema"].get("type"), name


def test_trigger_from_the_form_and_run_succeeds(stack: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    _wait_for_dag(stack)
    form_shot, graph_shot = tmp_path / "trigger-form.png", tmp_path / "graph-success.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # assertions too (default 5 s): a loaded machine is slow
            page.goto(f"{stack.base_url}/dags/{DAG_ID}")
            # Simple auth manager login page, then back to the DAG.
            page.locator("input[name=username]").fill("admin")
            page.locator("input[name=password]").fill(stack.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"**/dags/{DAG_ID}**")

            page.get_by_role("button", name="Trigger").first.click()
            dialog = page.get_by_role("dialog")
            # Params are grouped by section (accordions); month is under "Notification".
            dialog.get_by_role("button", name="Notification").click()
            month = dialog.locator("#element_month")
            expect(month).to_be_visible()
            # Defaults from the deployment settings are pre-filled.
            expect(dialog.locator("#element_topic")).to_have_value("StepFunctionWorkshopTopic")
            expect(dialog.get_by_text("Month to refresh")).to_be_visible()
            expect(dialog.get_by_text("YYYY-MM named in the notice")).to_be_visible()
            month.fill(MONTH)
            unpause = dialog.get_by_text(f"Unpause {DAG_ID} on trigger")
            if not dialog.locator("input[type=checkbox]").first.is_checked():
                unpause.click()
            expect(dialog.get_by_role("button", name="Trigger", exact=True)).to_be_enabled()
            page.screenshot(path=str(form_shot), full_page=True)
            _save(form_shot, tmp_path)
            # A known run id, to follow the run through the REST API.
            dialog.get_by_role("button", name="Advanced Options").click()
            dialog.locator("input[name=dagRunId]").fill(RUN_ID)
            dialog.get_by_role("button", name="Trigger", exact=True).click()
            expect(dialog).to_be_hidden()

            run = _wait_for_run(stack)
            assert run["run_type"] == "manual"
            assert run["conf"]["month"] == MONTH
            assert run["conf"]["sales_job"] == "sales-data-etl"

            page.goto(f"{stack.base_url}/dags/{DAG_ID}/runs/{RUN_ID}")
            graph = page.get_by_role("button", name="Show Graph (Press g)")
            graph.click()
            expect(page.locator(".react-flow")).to_be_visible()
            expect(page.get_by_text("Notify Users").first).to_be_visible()
            page.wait_for_timeout(2_000)
            page.screenshot(path=str(graph_shot), full_page=True)
            assert run["state"] == "success", (
                f"run {RUN_ID} {run['state']}:\n{_task_report(stack)}\n{stack.diagnostics()}")
            _save(graph_shot, tmp_path)
        finally:
            browser.close()

    tis = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{RUN_ID}/taskInstances")["task_instances"]
    assert len(tis) == 11
    assert {ti["state"] for ti in tis} == {"success"}


def test_form_can_trigger_a_routine_refresh_with_the_defaults(stack: Any) -> None:
    """Opening the form and pressing Trigger without edits must work (month is optional)."""
    from playwright.sync_api import expect, sync_playwright

    _wait_for_dag(stack)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # assertions too (default 5 s): a loaded machine is slow
            page.goto(f"{stack.base_url}/dags/{DAG_ID}")
            page.locator("input[name=username]").fill("admin")
            page.locator("input[name=password]").fill(stack.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"**/dags/{DAG_ID}**")
            page.get_by_role("button", name="Trigger").first.click()
            dialog = page.get_by_role("dialog")
            expect(dialog.locator("#element_transformed_bucket")).to_be_attached()
            page.wait_for_timeout(1_500)
            expect(dialog.get_by_role("button", name="Trigger", exact=True)).to_be_enabled()
        finally:
            browser.close()
