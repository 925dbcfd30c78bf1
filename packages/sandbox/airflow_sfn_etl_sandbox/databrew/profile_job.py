"""What a DataBrew profile job run does: profile the dataset (or its sample) and write the statistics.

The run reads the job's dataset (:func:`.inputs.read_dataset`), keeps the rows of its ``JobSample``
(``CUSTOM_ROWS``: the first ``Size`` rows in input order, 20,000 by default as DataBrew documents;
``FULL_DATASET``: all), computes the statistics and writes them as one JSON object,
``<OutputLocation.Key>/<dataset name>_<run id>.json``.

What DataBrew's ``Configuration`` changes is honoured:

- ``ProfileColumns``: only the columns selected by ``Name`` or ``Regex`` (the whole name must
  match) are profiled; a column of a type profile jobs do not support (DataBrew: byte, short,
  integer, long, float, double, string, boolean) is skipped, as DataBrew documents;
- ``DatasetStatisticsConfiguration``: ``IncludedStatistics`` (``DUPLICATE_ROWS_COUNT``,
  ``CORRELATION``) and the ``CORRELATION`` override ``columnSelectors``;
- ``ColumnStatisticsConfigurations``: for the columns each one selects (all without
  ``Selectors``; later configurations win), ``IncludedStatistics`` and the ``VALUE_DISTRIBUTION``
  override ``binNumber``.

Anything else fails the run naming it: ``EntityDetectorConfiguration`` (PII detection),
``ValidationConfigurations`` (data quality rulesets), a statistic or override parameter the sandbox
does not compute. The JSON layout is the sandbox's (DataBrew does not document its file); see
``docs/sandbox.md``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import state
from ..recipes.quality import missing
from ..runs import RunFailed
from .inputs import read_dataset
from .job_runs import JobRun

#: DataBrew's default sample: the first 20,000 rows.
DEFAULT_SAMPLE = {"Mode": "CUSTOM_ROWS", "Size": 20000}
MOST_COMMON_VALUES_LIMIT = 10
DEFAULT_BIN_NUMBER = 10
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

DATASET_STATISTICS = ("DUPLICATE_ROWS_COUNT", "CORRELATION")
#: Statistics of every supported column.
ANY_COLUMN_STATISTICS = ("MISSING_VALUES_COUNT", "VALID_VALUES_COUNT", "DISTINCT_VALUES_COUNT",
                         "UNIQUE_VALUES_COUNT", "MOST_COMMON_VALUES")
#: Statistics of number columns only.
NUMBER_STATISTICS = ("MIN", "MAX", "MEAN", "MEDIAN", "MODE", "STANDARD_DEVIATION", "VARIANCE", "SUM", "RANGE",
                     "INTER_QUARTILE_RANGE", "QUANTILES", "ZEROS_COUNT", "VALUE_DISTRIBUTION")
COLUMN_STATISTICS = ANY_COLUMN_STATISTICS + NUMBER_STATISTICS
#: The override parameters the sandbox takes, per statistic.
_OVERRIDE_PARAMETERS = {"CORRELATION": {"columnSelectors"}, "VALUE_DISTRIBUTION": {"binNumber"}}
_CONFIGURATION_KEYS = {"ProfileColumns", "DatasetStatisticsConfiguration", "ColumnStatisticsConfigurations",
                       "EntityDetectorConfiguration"}


def _type_name(kind: pa.DataType) -> str | None:
    """The Spark type name DataBrew reports for a supported column type, None for another type."""
    names: list[tuple[Callable[[pa.DataType], bool], str]] = [
        (pa.types.is_int8, "byte"), (pa.types.is_int16, "short"), (pa.types.is_int32, "int"),
        (pa.types.is_int64, "bigint"), (pa.types.is_float32, "float"), (pa.types.is_float64, "double"),
        (pa.types.is_boolean, "boolean"), (pa.types.is_string, "string"), (pa.types.is_large_string, "string"),
    ]
    for test, name in names:
        if test(kind):
            return name
    return None


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _camel(statistic: str) -> str:
    first, *rest = statistic.lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


# ---- configuration ------------------------------------------------------------------------------

def _selector_matches(selector: dict[str, Any], name: str, where: str) -> bool:
    unknown = sorted(set(selector) - {"Name", "Regex", "name", "regex"})
    if unknown:
        raise RunFailed(f"{where}: unknown selector key {', '.join(map(repr, unknown))}; "
                        "a selector takes Name or Regex")
    wanted = selector.get("Name", selector.get("name"))
    pattern = selector.get("Regex", selector.get("regex"))
    if wanted is None and pattern is None:
        raise RunFailed(f"{where}: a column selector needs Name or Regex")
    if wanted is not None and wanted == name:
        return True
    if pattern is not None:
        try:
            return re.fullmatch(pattern, name) is not None
        except re.error as exc:
            raise RunFailed(f"{where}: Regex {pattern!r} is not a valid regular expression: {exc}") from None
    return False


def _select(selectors: list[dict[str, Any]], names: list[str], where: str) -> list[str]:
    """The names any selector selects (in table order); a Name selector naming no column fails."""
    for selector in selectors:
        wanted = selector.get("Name", selector.get("name"))
        if wanted is not None and selector.get("Regex", selector.get("regex")) is None and wanted not in names:
            raise RunFailed(f"{where}: no column named {wanted!r}; columns are {names}")
    return [n for n in names if any(_selector_matches(s, n, where) for s in selectors)]


def _statistics(raw: dict[str, Any], known: tuple[str, ...],
                where: str) -> tuple[list[str] | None, dict[str, dict[str, str]]]:
    """(IncludedStatistics or None for all, {statistic: override parameters}) of a StatisticsConfiguration."""
    unknown_keys = sorted(set(raw) - {"IncludedStatistics", "Overrides"})
    if unknown_keys:
        raise RunFailed(f"{where}: unknown key {', '.join(map(repr, unknown_keys))}")
    included = raw.get("IncludedStatistics")
    if included is not None:
        for name in included:
            if name not in known:
                raise RunFailed(f"{where}.IncludedStatistics: statistic {name!r} is not emulated by the sandbox "
                                f"(it computes {', '.join(known)})")
    overrides: dict[str, dict[str, str]] = {}
    for override in raw.get("Overrides") or []:
        name = override.get("Statistic", "")
        if name not in known:
            raise RunFailed(f"{where}.Overrides: statistic {name!r} is not emulated by the sandbox "
                            f"(it computes {', '.join(known)})")
        params = {str(k): str(v) for k, v in (override.get("Parameters") or {}).items()}
        extra = sorted(set(params) - _OVERRIDE_PARAMETERS.get(name, set()))
        if extra:
            raise RunFailed(f"{where}.Overrides: parameter {', '.join(map(repr, extra))} of {name} is not emulated "
                            f"by the sandbox (it takes {sorted(_OVERRIDE_PARAMETERS.get(name, set())) or 'none'})")
        overrides.setdefault(name, {}).update(params)
    return (list(included) if included is not None else None), overrides


def _check_configuration(job: dict[str, Any]) -> dict[str, Any]:
    config = job.get("Configuration") or {}
    unknown = sorted(set(config) - _CONFIGURATION_KEYS)
    if unknown:
        raise RunFailed(f"Configuration: unknown key {', '.join(map(repr, unknown))}")
    if config.get("EntityDetectorConfiguration"):
        raise RunFailed("Configuration.EntityDetectorConfiguration: PII entity detection is not emulated "
                        "by the sandbox")
    if job.get("ValidationConfigurations"):
        raise RunFailed("ValidationConfigurations: data quality rulesets are not emulated by the sandbox")
    return config


def _sample(job: dict[str, Any]) -> dict[str, Any]:
    sample = job.get("JobSample") or DEFAULT_SAMPLE
    mode = str(sample.get("Mode") or "CUSTOM_ROWS").upper()
    if mode == "FULL_DATASET":
        return {"Mode": mode}
    if mode != "CUSTOM_ROWS":
        raise RunFailed(f"JobSample: Mode must be FULL_DATASET or CUSTOM_ROWS, got {sample.get('Mode')!r}")
    size = sample.get("Size", DEFAULT_SAMPLE["Size"])
    if not isinstance(size, int) or size < 1:
        raise RunFailed(f"JobSample: Size must be a whole number of rows above 0, got {size!r}")
    return {"Mode": mode, "Size": size}


# ---- statistics ---------------------------------------------------------------------------------

def duplicate_rows_count(table: pa.Table) -> int:
    """Rows equal to an earlier row (missing values equal to missing values)."""
    if table.num_rows == 0 or table.num_columns == 0:
        return 0
    return table.num_rows - table.group_by(table.column_names, use_threads=False).aggregate([]).num_rows


def _native(value: Any) -> Any:
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _value_counts(values: pa.ChunkedArray) -> list[tuple[Any, int]]:
    """(value, count) of each value, most frequent first, then by value."""
    counts = pc.value_counts(values)
    pairs = list(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    pairs.sort(key=lambda p: p[0])
    pairs.sort(key=lambda p: -p[1])
    return pairs


def _distribution(numbers: pa.ChunkedArray, bins: int) -> list[dict[str, Any]]:
    """Equal-width bins from the minimum to the maximum (the last bin includes the maximum)."""
    if len(numbers) == 0:
        return []
    low, high = pc.min(numbers).as_py(), pc.max(numbers).as_py()
    if high == low:
        return [{"lowerBound": low, "upperBound": high, "count": len(numbers)}]
    scaled = pc.divide(pc.multiply(pc.subtract(numbers, low), float(bins)), high - low)
    index = pc.min_element_wise(pc.cast(pc.floor(scaled), pa.int64()), bins - 1)
    found = pc.value_counts(index)
    counts = dict(zip(found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True))
    bounds = [low + (high - low) * i / bins for i in range(bins)] + [high]
    return [{"lowerBound": bounds[i], "upperBound": bounds[i + 1], "count": counts.get(i, 0)} for i in range(bins)]


def column_statistics(values: pa.ChunkedArray, wanted: list[str], bins: int) -> dict[str, Any]:
    """The ``wanted`` statistics of one column (number statistics only for a number column)."""
    is_missing = missing(values)
    present = values.filter(pc.invert(is_missing))
    counts = _value_counts(present)
    out: dict[str, Any] = {}
    computed: dict[str, Callable[[], Any]] = {
        "MISSING_VALUES_COUNT": lambda: pc.sum(is_missing).as_py() or 0,
        "VALID_VALUES_COUNT": lambda: len(present),
        "DISTINCT_VALUES_COUNT": lambda: len(counts),
        "UNIQUE_VALUES_COUNT": lambda: sum(1 for _, n in counts if n == 1),
        "MOST_COMMON_VALUES": lambda: [{"value": v, "count": n} for v, n in counts[:MOST_COMMON_VALUES_LIMIT]],
    }
    if _is_number(values.type):
        numbers = pc.cast(present, pa.float64())
        empty = len(numbers) == 0

        def quantile(q: float) -> float | None:
            return None if empty else pc.quantile(numbers, q=q, interpolation="linear")[0].as_py()

        computed.update({
            "MIN": lambda: _native(pc.min(present)),
            "MAX": lambda: _native(pc.max(present)),
            "MEAN": lambda: _native(pc.mean(numbers)),
            "MEDIAN": lambda: quantile(0.5),
            "MODE": lambda: counts[0][0] if counts else None,
            "STANDARD_DEVIATION": lambda: _native(pc.stddev(numbers, ddof=1)),
            "VARIANCE": lambda: _native(pc.variance(numbers, ddof=1)),
            "SUM": lambda: None if empty else _native(pc.sum(present)),
            "RANGE": lambda: None if empty else _native(pc.subtract(pc.max(present), pc.min(present))),
            "INTER_QUARTILE_RANGE": lambda: _difference(quantile(0.75), quantile(0.25)),
            "QUANTILES": lambda: {str(q): quantile(q) for q in QUANTILES},
            "ZEROS_COUNT": lambda: pc.sum(pc.equal(numbers, 0)).as_py() or 0,
            "VALUE_DISTRIBUTION": lambda: _distribution(numbers, bins),
        })
    for statistic in wanted:
        if statistic in computed:
            out[_camel(statistic)] = computed[statistic]()
    return out


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _pearson(x: pa.ChunkedArray, y: pa.ChunkedArray) -> float | None:
    both = pc.and_(pc.is_valid(x), pc.is_valid(y))
    xs, ys = pc.cast(x.filter(both), pa.float64()), pc.cast(y.filter(both), pa.float64())
    if len(xs) < 2:
        return None
    dx, dy = pc.subtract(xs, pc.mean(xs)), pc.subtract(ys, pc.mean(ys))
    sxy = pc.sum(pc.multiply(dx, dy)).as_py()
    sxx, syy = pc.sum(pc.multiply(dx, dx)).as_py(), pc.sum(pc.multiply(dy, dy)).as_py()
    if sxx == 0 or syy == 0:
        return None
    return float(sxy / (sxx * syy) ** 0.5)


def correlations(table: pa.Table, names: list[str]) -> dict[str, dict[str, float | None]]:
    """Pearson correlation of each pair of number columns ``names`` (rows where both have a value)."""
    return {a: {b: _pearson(table.column(a), table.column(b)) for b in names} for a in names}


# ---- the run ------------------------------------------------------------------------------------

def _column_plan(config: dict[str, Any], table: pa.Table) -> dict[str, tuple[list[str], int]]:
    """{profiled column: (statistics, VALUE_DISTRIBUTION bins)}, in table order."""
    names = [n for n in table.column_names if _type_name(table.schema.field(n).type) is not None]
    if config.get("ProfileColumns"):
        names = _select(list(config["ProfileColumns"]), names, "Configuration.ProfileColumns")
    plan = {n: (list(COLUMN_STATISTICS), DEFAULT_BIN_NUMBER) for n in names}
    for number, raw in enumerate(config.get("ColumnStatisticsConfigurations") or [], start=1):
        where = f"Configuration.ColumnStatisticsConfigurations[{number}]"
        included, overrides = _statistics(raw.get("Statistics") or {}, COLUMN_STATISTICS, f"{where}.Statistics")
        selected = _select(list(raw["Selectors"]), names, f"{where}.Selectors") if raw.get("Selectors") else names
        for name in selected:
            stats, bins = plan[name]
            if included is not None:
                stats = included
            if "binNumber" in overrides.get("VALUE_DISTRIBUTION", {}):
                bins = _bin_number(overrides["VALUE_DISTRIBUTION"]["binNumber"], where)
            plan[name] = (stats, bins)
    return plan


def _bin_number(raw: str, where: str) -> int:
    try:
        bins = int(raw)
    except ValueError:
        bins = 0
    if bins < 1:
        raise RunFailed(f"{where}: VALUE_DISTRIBUTION binNumber must be a whole number above 0, got {raw!r}")
    return bins


def profile(table: pa.Table, config: dict[str, Any]) -> dict[str, Any]:
    """The statistics of ``table`` under a profile job ``Configuration`` (no output, no sampling)."""
    dataset_cfg = config.get("DatasetStatisticsConfiguration") or {}
    where = "Configuration.DatasetStatisticsConfiguration"
    included, overrides = _statistics(dataset_cfg, DATASET_STATISTICS, where)
    dataset_stats = included if included is not None else list(DATASET_STATISTICS)
    plan = _column_plan(config, table)
    out: dict[str, Any] = {"rowsCount": table.num_rows, "columnsCount": table.num_columns}
    if "DUPLICATE_ROWS_COUNT" in dataset_stats:
        out["duplicateRowsCount"] = duplicate_rows_count(table)
    if "CORRELATION" in dataset_stats:
        numeric = [n for n in plan if _is_number(table.schema.field(n).type)]
        raw = overrides.get("CORRELATION", {}).get("columnSelectors")
        if raw:
            try:
                selectors = json.loads(raw)
            except ValueError:
                selectors = None
            if not isinstance(selectors, list) or not all(isinstance(s, dict) for s in selectors):
                raise RunFailed(f"{where}.Overrides: CORRELATION columnSelectors must be a JSON list of "
                                f"selectors, got {raw!r}")
            numeric = _select(selectors, numeric, f"{where}.Overrides CORRELATION columnSelectors")
        out["correlations"] = correlations(table, numeric)
    out["columns"] = [
        {"name": name, "type": _type_name(table.schema.field(name).type),
         **column_statistics(table.column(name), stats, bins)}
        for name, (stats, bins) in plan.items()
    ]
    return out


def run_profile_job(run: JobRun) -> None:
    run.checkpoint()
    job = run.job
    config = _check_configuration(job)
    location = job.get("OutputLocation") or {}
    bucket = location.get("Bucket", "")
    if not bucket:
        raise RunFailed(f"Job {run.name} has no OutputLocation")
    if bucket not in state.s3_backend().buckets:
        raise RunFailed(f"OutputLocation: the output bucket {bucket!r} does not exist")
    sample = _sample(job)
    t0 = time.monotonic()
    dataset = job.get("DatasetName") or ""
    table = read_dataset(run.region, dataset)
    run.metrics["rows_in"] = table.num_rows
    if "Size" in sample:
        table = table.slice(0, sample["Size"])
    result = {"datasetName": dataset, "jobName": run.name, "jobRunId": run.id,
              "sample": {"mode": sample["Mode"], **({"size": sample["Size"]} if "Size" in sample else {})},
              **profile(table, config)}
    run.checkpoint()
    prefix = location.get("Key") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    key = f"{prefix}{dataset}_{run.id}.json"
    state.s3_put(bucket, key, json.dumps(result, indent=2, default=str).encode())
    run.metrics.update(rows_profiled=table.num_rows, files=1, output=f"s3://{bucket}/{key}",
                       seconds=round(time.monotonic() - t0, 3))
    run.checkpoint()
