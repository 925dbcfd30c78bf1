"""Baseline DAGs for the benchmark, written with the stock amazon provider only."""
