"""Steps that combine the rows with a second dataset: JOIN and UNION.

The second dataset is read from the sandbox's S3 the way the job's own dataset is
(:func:`.base.read_input`): a DataBrew dataset by name (``secondaryDatasetName(s)``) and/or an S3
location (``secondInputLocation`` ``s3://bucket/key``, ``secondaryInputs`` ``[{"S3InputDefinition":
{"Bucket", "Key"}}]``, ``secondInput`` one such object).

JOIN (``joinType``, ``joinKeys``, ``leftColumns``, ``rightColumns``):

- ``joinKeys`` is a JSON list of ``{"key": <column of the current rows>, "value": <column of the second
  dataset>}``; rows match when every pair is equal; a missing (null) key matches nothing, as in SQL;
- ``INNER_JOIN`` keeps the matching pairs; ``LEFT_JOIN`` / ``RIGHT_JOIN`` / ``OUTER_JOIN`` also keep the
  rows of the left / right / either side without a match (the other side's columns null);
  ``LEFT_EXCLUDING_JOIN`` / ``RIGHT_EXCLUDING_JOIN`` / ``OUTER_EXCLUDING_JOIN`` keep only those rows
  without a match;
- the result has the ``leftColumns`` then the ``rightColumns``, in the order listed; a name selected
  on both sides fails the step (DataBrew does not document what it calls the two columns);
- rows come in the current rows' order, each with its matches in the second dataset's order, then
  the second dataset's unmatched rows (the order of a join is not defined by DataBrew).

UNION (``datasetsColumns``, ``targetColumnNames``, ``secondaryInputs``, ``secondaryDatasetNames``):
``datasetsColumns`` has one list per dataset (the current rows first, then each secondary input), each
naming, for every target column, the dataset's column or ``null`` (the target column is then null
for that dataset's rows). The rows of the current dataset come first, then each secondary's.
Columns of different number types are widened (int to bigint, to double); other differing types fail.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, json_param, operation, read_input, require

JOIN_TYPES = {
    "INNER_JOIN": "inner", "LEFT_JOIN": "left outer", "RIGHT_JOIN": "right outer", "OUTER_JOIN": "full outer",
    "LEFT_EXCLUDING_JOIN": "left outer", "RIGHT_EXCLUDING_JOIN": "right outer",
    "OUTER_EXCLUDING_JOIN": "full outer",
}
_LEFT, _RIGHT = "__sandbox_left_row", "__sandbox_right_row"


def _names(params: dict[str, str], name: str) -> list[str]:
    names = json_param(params, name, list, "a JSON list of column names")
    if not names or not all(isinstance(n, str) and n for n in names):
        raise RecipeError(f"{name} must be a JSON list of column names, got {params[name]!r}")
    if len(set(names)) != len(names):
        raise RecipeError(f"{name} names a column twice: {names}")
    return names


def _join_keys(params: dict[str, str]) -> list[tuple[str, str]]:
    keys = json_param(params, "joinKeys", list, 'a JSON list of {"key": left column, "value": right column}')
    pairs = []
    for number, pair in enumerate(keys, start=1):
        if not isinstance(pair, dict) or set(pair) != {"key", "value"} or not all(
                isinstance(v, str) and v for v in pair.values()):
            raise RecipeError(f'join key {number} must be {{"key": left column, "value": right column}}, got {pair!r}')
        pairs.append((pair["key"], pair["value"]))
    if not pairs:
        raise RecipeError("joinKeys is empty")
    return pairs


def _second_input(params: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if params.get("secondInput"):
        given = json_param(params, "secondInput", dict, 'a JSON object {"S3InputDefinition": {"Bucket", "Key"}}')
        spec.update(given)
    if params.get("secondInputLocation"):
        location = params["secondInputLocation"]
        if not location.startswith("s3://") or "/" not in location[5:]:
            raise RecipeError(f"secondInputLocation must be an s3://bucket/key URL, got {location!r}")
        bucket, _, key = location[5:].partition("/")
        if spec.get("S3InputDefinition") not in (None, {"Bucket": bucket, "Key": key}):
            raise RecipeError("secondInput and secondInputLocation name different locations")
        spec["S3InputDefinition"] = {"Bucket": bucket, "Key": key}
    if params.get("secondaryDatasetName"):
        spec["DatasetName"] = params["secondaryDatasetName"]
    if not spec:
        raise RecipeError("parameter 'secondaryDatasetName' or 'secondInputLocation' is required")
    return spec


@operation("JOIN", parameters=("joinType", "joinKeys", "leftColumns", "rightColumns", "secondInputLocation",
                               "secondaryDatasetName", "secondInput"))
def join(table: pa.Table, params: dict[str, str]) -> pa.Table:
    join_type = require(params, "joinType").upper()
    if join_type not in JOIN_TYPES:
        raise RecipeError(f"joinType must be one of {', '.join(JOIN_TYPES)}, got {params['joinType']!r}")
    keys = _join_keys(params)
    left_columns, right_columns = _names(params, "leftColumns"), _names(params, "rightColumns")
    both = sorted(set(left_columns) & set(right_columns))
    if both:
        raise RecipeError(f"column(s) {both} are selected from both datasets; what DataBrew names the two columns "
                          "is not documented, so this is not emulated by the sandbox (select each name on one "
                          "side only)")
    right = read_input(_second_input(params))
    for name in left_columns + [k for k, _ in keys]:
        column(table, name)
    for name in right_columns + [v for _, v in keys]:
        if name not in right.column_names:
            raise RecipeError(f"column {name!r} not found in the second dataset; its columns are {right.column_names}")
    for left_key, right_key in keys:
        lt, rt = table.schema.field(left_key).type, right.schema.field(right_key).type
        if lt != rt and not (_is_number(lt) and _is_number(rt)):
            raise RecipeError(f"join key {left_key!r} ({lt}) and {right_key!r} ({rt}) are of different types; "
                              "convert one with CHANGE_DATA_TYPE first")
    # Internal names keep the two sides apart whatever their column names.
    lnames = sorted(set(left_columns) | {k for k, _ in keys})
    rnames = sorted(set(right_columns) | {v for _, v in keys})
    lmap = {n: f"l{i}" for i, n in enumerate(lnames)}
    rmap = {n: f"r{i}" for i, n in enumerate(rnames)}
    lside = table.select(lnames).rename_columns([lmap[n] for n in lnames]).append_column(
        _LEFT, pa.array(range(table.num_rows), pa.int64()))
    rside = right.select(rnames).rename_columns([rmap[n] for n in rnames]).append_column(
        _RIGHT, pa.array(range(right.num_rows), pa.int64()))
    lkeys, rkeys = [lmap[k] for k, _ in keys], [rmap[v] for _, v in keys]
    for lk, rk in zip(lkeys, rkeys, strict=True):
        lt, rt = lside.schema.field(lk).type, rside.schema.field(rk).type
        if lt != rt:  # two number types: compare as doubles
            lside = lside.set_column(lside.column_names.index(lk), lk, pc.cast(lside.column(lk), pa.float64()))
            rside = rside.set_column(rside.column_names.index(rk), rk, pc.cast(rside.column(rk), pa.float64()))
    joined = lside.join(rside, keys=lkeys, right_keys=rkeys, join_type=JOIN_TYPES[join_type],
                        coalesce_keys=False, use_threads=False)
    if join_type == "LEFT_EXCLUDING_JOIN":
        joined = joined.filter(pc.is_null(joined.column(_RIGHT)))
    elif join_type == "RIGHT_EXCLUDING_JOIN":
        joined = joined.filter(pc.is_null(joined.column(_LEFT)))
    elif join_type == "OUTER_EXCLUDING_JOIN":
        joined = joined.filter(pc.or_(pc.is_null(joined.column(_LEFT)), pc.is_null(joined.column(_RIGHT))))
    # Nulls sort last by default: the right side's unmatched rows come after the left side's.
    joined = joined.sort_by([(_LEFT, "ascending"), (_RIGHT, "ascending")])
    return pa.table([joined.column(lmap[n]) for n in left_columns] + [joined.column(rmap[n]) for n in right_columns],
                    names=left_columns + right_columns)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _secondary_inputs(params: dict[str, str]) -> list[dict[str, Any]]:
    inputs = json_param(params, "secondaryInputs", list, 'a JSON list of {"S3InputDefinition": {"Bucket", "Key"}}')
    if not inputs or not all(isinstance(i, dict) for i in inputs):
        raise RecipeError(f"secondaryInputs must be a JSON list of input locations, got {params['secondaryInputs']!r}")
    names: list[Any] = [None] * len(inputs)
    if params.get("secondaryDatasetNames"):
        names = json_param(params, "secondaryDatasetNames", list, "a JSON list of dataset names")
        if len(names) != len(inputs):
            raise RecipeError(f"secondaryDatasetNames has {len(names)} names for {len(inputs)} secondaryInputs")
    return [{**spec, **({"DatasetName": name} if name else {})} for spec, name in zip(inputs, names, strict=True)]


@operation("UNION", parameters=("datasetsColumns", "secondaryDatasetNames", "secondaryInputs", "targetColumnNames"))
def union(table: pa.Table, params: dict[str, str]) -> pa.Table:
    targets = _names(params, "targetColumnNames")
    columns = json_param(params, "datasetsColumns", list, "a JSON list of column lists, one per dataset")
    inputs = _secondary_inputs(params)
    if len(columns) != 1 + len(inputs):
        raise RecipeError(f"datasetsColumns has {len(columns)} lists; it needs one for the current dataset and one "
                          f"for each of the {len(inputs)} secondaryInputs")
    datasets = [table] + [read_input(spec) for spec in inputs]
    pieces = []
    for number, (names, data) in enumerate(zip(columns, datasets, strict=True), start=1):
        where = "the current dataset" if number == 1 else f"secondary input {number - 1}"
        if not isinstance(names, list) or len(names) != len(targets) or not all(
                n is None or isinstance(n, str) for n in names):
            raise RecipeError(f"datasetsColumns list {number} ({where}) must name a column or null for each of the "
                              f"{len(targets)} targetColumnNames, got {names!r}")
        arrays = []
        for name in names:
            if name is None:
                arrays.append(pa.nulls(data.num_rows))
            elif name not in data.column_names:
                raise RecipeError(f"column {name!r} not found in {where}; its columns are {data.column_names}")
            else:
                arrays.append(data.column(name))
        pieces.append(pa.table(arrays, names=targets))
    for index, target in enumerate(targets):
        kinds = {p.schema.field(index).type for p in pieces} - {pa.null()}
        if len(kinds) > 1 and not all(_is_number(k) for k in kinds):
            raise RecipeError(f"target column {target!r} gets values of different types {sorted(map(str, kinds))}; "
                              "convert them to one type with CHANGE_DATA_TYPE first")
    try:
        return pa.concat_tables(pieces, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise RecipeError(f"the datasets' columns cannot be combined: {exc}") from None
