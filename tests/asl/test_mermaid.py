"""Mermaid rendering."""

from __future__ import annotations

from airflow_sfn_etl.asl import compile_dag, render_mermaid
from tests.asl.flows import glue_crawler_job_dag, sales_marketing_dag


def test_sales_flow_diagram_has_parallel_and_branch_subgraphs() -> None:
    text = render_mermaid(compile_dag(sales_marketing_dag()))
    assert text.startswith("flowchart TD\n")
    assert 'subgraph s0["Refresh Sales Marketing Data"]' in text
    assert text.count("subgraph ") == 3
    assert '["Sales DataBrew ETL Job"]' in text and '["Notify Users"]' in text
    assert "s0 --> " in text  # the Parallel continues with the summary
    assert text.endswith(" --> finish\n")
    assert text == render_mermaid(compile_dag(sales_marketing_dag()))


def test_crawler_diagram_labels_choice_edges_and_catch() -> None:
    text = render_mermaid(compile_dag(glue_crawler_job_dag()))
    assert '{"Wait for Crawler: Ready?"}' in text
    assert '-->|"$.wait_for_crawler_state.State == READY"|' in text
    assert '-->|"$.wait_for_crawler_polls.count >= 3"|' in text
    assert '-->|"default"|' in text
    assert '-.->|"catch Glue.CrawlerRunningException"|' in text
