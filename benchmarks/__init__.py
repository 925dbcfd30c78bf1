"""``python -m benchmarks``: our flows against the stock amazon provider and Step Functions.

Sections (each a module): :mod:`.overhead` (orchestration overhead on a real scheduler),
:mod:`.waiting` (cost of waiting), :mod:`.parse_compile` (DAG parse and ASL compile),
:mod:`.scale` (compile scale, Athena scale), :mod:`.density` (triggerer density).
Every figure is a median of repeated runs; ratios come from the same run on the same machine.
"""
