"""Entry point: ``python -m airflow_sfn_etl.bench --out BENCHMARKS.md``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
