"""Benchmark sizes: ``full`` (``make bench``) and ``smoke`` (the harness test: tiny, no timing claims)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    name: str
    parse_repeats: int
    parse_warm: int
    parse_all_files: bool
    compile_repeats: int
    scale_sizes: tuple[int, ...]
    scale_widths: tuple[int, ...]
    scale_repeats: int
    athena_factors: tuple[int, ...]
    athena_repeats: int
    wait_job_seconds: float
    wait_repeats: int
    restart_triggers: int
    restart_factor: float
    density_counts: tuple[int, ...]
    density_hold_seconds: float
    density_before_count: int
    overhead_repeats: int
    overhead_delay: float
    spark_factors: tuple[int, ...] = (1, 100)
    spark_repeats: int = 3

    def parse_files(self) -> list[Path]:
        from .parse_compile import DAG_FILES

        return DAG_FILES if self.parse_all_files else DAG_FILES[:1]


PROFILES = {
    "full": Profile(
        name="full",
        parse_repeats=2,
        parse_warm=3,
        parse_all_files=True,
        compile_repeats=50,
        scale_sizes=(10, 100, 1000),
        scale_widths=(1, 2, 10, 100),
        scale_repeats=5,
        athena_factors=(1, 10, 100),
        athena_repeats=3,
        wait_job_seconds=8.0,
        wait_repeats=3,
        restart_triggers=100,
        restart_factor=15.0,
        density_counts=(100, 1000),
        density_hold_seconds=15.0,
        density_before_count=200,
        overhead_repeats=2,
        overhead_delay=2.0,
    ),
    "smoke": Profile(
        name="smoke",
        parse_repeats=1,
        parse_warm=1,
        parse_all_files=False,
        compile_repeats=2,
        scale_sizes=(10, 20),
        scale_widths=(1, 2),
        scale_repeats=1,
        athena_factors=(1,),
        athena_repeats=1,
        wait_job_seconds=1.0,
        wait_repeats=1,
        restart_triggers=3,
        restart_factor=600.0,
        density_counts=(5,),
        density_hold_seconds=1.0,
        density_before_count=0,
        overhead_repeats=1,
        overhead_delay=0.5,
        spark_factors=(1,),
        spark_repeats=1,
    ),
}
