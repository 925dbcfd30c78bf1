"""Trino's typing on the sandbox: casts, function arguments, arithmetic and decimal results.

Expected values are Trino's documented behaviour (its cast, operator and function rules) or are
computed here with Python's ``decimal`` module, never read back from the sandbox.
"""

from __future__ import annotations

import datetime
import decimal
import math
import struct

import pyarrow as pa
import pytest

from airflow_sfn_etl_sandbox.sql.semantics import java_number
from tests.sandbox.test_athena import Env


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def _reason(env: Env, sql: str) -> str:
    return env.run(sql, expect="FAILED")["Status"]["StateChangeReason"]


def _typed(env: Env, sql: str) -> tuple[list[list[str | None]], list[tuple[str, int, int]]]:
    """Rows (header first) and (Type, Precision, Scale) of each result column."""
    qid = env.run(sql)["QueryExecutionId"]
    meta = env.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    return env.rows(qid), [(c["Type"], c["Precision"], c["Scale"]) for c in meta]


CODES = b"1|12|a\n2|1.5|b\n3| 7|c\n"


def _codes(env: Env) -> None:
    """A text table whose ``code`` strings are integers, a decimal and a padded integer."""
    env.s3.put_object(Bucket=env.data, Key="codes/c.txt", Body=CODES)
    env.run(
        "CREATE EXTERNAL TABLE codes (id int, code string, tag string) ROW FORMAT DELIMITED "
        f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/codes/'"
    )


# --------------------------------------------------------------------------- casts from varchar
# Trino parses with Java: Integer.parseInt / Long.parseLong (no spaces, no fraction), a boolean is
# exactly t, f, 1, 0, true or false (any case), a decimal is a java.math.BigDecimal rounded half up.


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT CAST('1.5' AS integer)", "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT"),
        ("SELECT CAST(' 7' AS bigint)", "INVALID_CAST_ARGUMENT: Cannot cast ' 7' to BIGINT"),
        ("SELECT CAST('40000' AS smallint)", "INVALID_CAST_ARGUMENT: Cannot cast '40000' to SMALLINT"),
        ("SELECT CAST('128' AS tinyint)", "INVALID_CAST_ARGUMENT: Cannot cast '128' to TINYINT"),
        ("SELECT CAST('yes' AS boolean)", "INVALID_CAST_ARGUMENT: Cannot cast 'yes' to BOOLEAN"),
        (
            "SELECT CAST('1,5' AS decimal(10,2))",
            "INVALID_CAST_ARGUMENT: Cannot cast VARCHAR '1,5' to DECIMAL(10, 2). Value is not a number.",
        ),
    ],
)
def test_casts_from_varchar_fail_as_trino(env, sql, reason):
    assert _reason(env, sql) == reason


def test_casts_from_varchar_that_trino_parses(env):
    sql = (
        "SELECT CAST('-12' AS integer), CAST('+9223372036854775807' AS bigint), CAST('TRUE' AS boolean), "
        "CAST('f' AS boolean), CAST('1.555' AS decimal(10,2)), CAST('-1.555' AS decimal(10,2)), "
        "TRY_CAST('1.5' AS integer), TRY_CAST('8' AS integer), CAST(NULL AS varchar)"
    )
    expected = [
        str(int("-12")),
        str(2**63 - 1),
        "true",
        "false",
        str(decimal.Decimal("1.555").quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)),
        str(decimal.Decimal("-1.555").quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)),
        None,
        "8",
        None,
    ]
    assert env.query(sql)[1] == expected


def test_cast_of_a_table_column_fails_on_the_first_bad_value(env):
    _codes(env)
    assert _reason(env, "SELECT CAST(code AS integer) FROM codes") in {
        "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT",
        "INVALID_CAST_ARGUMENT: Cannot cast ' 7' to INT",
    }
    rows = env.query("SELECT id, TRY_CAST(code AS integer) FROM codes ORDER BY id")[1:]
    assert rows == [["1", "12"], ["2", None], ["3", None]]


# --------------------------------------------------------------------------- function arguments, operators


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "SELECT concat(1, 'x')",
            "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (integer, varchar(1)) for function concat",
        ),
        (
            "SELECT 'a' || 1",
            "FUNCTION_NOT_FOUND: line 1:12: Unexpected parameters (varchar(1), integer) for function concat",
        ),
        ("SELECT length(12)", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (integer) for function length"),
        ("SELECT abs('1')", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1)) for function abs"),
        (
            "SELECT year('2024-01-01')",
            "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(10)) for function year",
        ),
        ("SELECT '1' + 1", "TYPE_MISMATCH: line 1:12: Cannot apply operator: varchar(1) + integer"),
        ("SELECT DATE '2024-01-01' + 1", "TYPE_MISMATCH: line 1:26: Cannot apply operator: date + integer"),
        ("SELECT id * code FROM codes", "TYPE_MISMATCH: line 1:11: Cannot apply operator: integer * varchar"),
        (
            "SELECT upper(tag) || id FROM codes",
            "FUNCTION_NOT_FOUND: line 1:19: Unexpected parameters (varchar, integer) for function concat",
        ),
        (
            "SELECT concat(c, 'x') FROM (SELECT id + 1 AS c FROM codes) s",
            "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (integer, varchar(1)) for function concat",
        ),
        (
            "SELECT date_add('hour', 1, DATE '2024-01-02')",
            "INVALID_FUNCTION_ARGUMENT: 'hour' is not a valid DATE field",
        ),
        (
            "SELECT date_trunc('hour', DATE '2024-01-02')",
            "INVALID_FUNCTION_ARGUMENT: 'hour' is not a valid DATE field",
        ),
        (
            "SELECT DATE '2024-01-01' + INTERVAL '1' HOUR",
            "INVALID_FUNCTION_ARGUMENT: Cannot add hour, minutes or seconds to a date",
        ),
        ("SELECT 5 / 0", "DIVISION_BY_ZERO: Division by zero"),
        ("SELECT 1.5 / 0", "DIVISION_BY_ZERO: Division by zero"),
        ("SELECT 5 % 0", "DIVISION_BY_ZERO: Division by zero"),
    ],
)
def test_arguments_and_operands_of_another_kind_fail_as_trino(env, sql, reason):
    _codes(env)
    assert _reason(env, sql) == reason


def test_arguments_of_the_right_kind_still_run(env):
    _codes(env)
    rows = env.query("SELECT concat(tag, CAST(id AS varchar)) || '!', length(tag), upper(tag) FROM codes ORDER BY id")
    assert rows[1:] == [[f"{t}{i}!", "1", t.upper()] for i, t in ((1, "a"), (2, "b"), (3, "c"))]


# --------------------------------------------------------------------------- arithmetic results


def _money(env: Env) -> list[tuple[decimal.Decimal, decimal.Decimal]]:
    values = [("10.00", "3.00"), ("-2.00", "3.00"), ("1.00", "6.00"), ("99999999.99", "0.07")]
    pairs = [(decimal.Decimal(a), decimal.Decimal(b)) for a, b in values]
    t = pa.table(
        {
            "id": pa.array(range(len(pairs)), pa.int32()),
            "a": pa.array([a for a, _ in pairs], pa.decimal128(10, 2)),
            "b": pa.array([b for _, b in pairs], pa.decimal128(10, 2)),
        }
    )
    env.put_parquet("money/m.parquet", t)
    env.run(
        f"CREATE EXTERNAL TABLE money (id int, a decimal(10,2), b decimal(10,2)) STORED AS PARQUET "
        f"LOCATION 's3://{env.data}/money/'"
    )
    return pairs


def _half_up(value: decimal.Decimal, scale: int) -> decimal.Decimal:
    return value.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)


def test_decimal_division_is_exact_and_typed_as_trino(env):
    pairs = _money(env)
    rows, types = _typed(env, "SELECT a / b, a + b, a * b, a % b, a / 3 FROM money ORDER BY id")
    ctx = decimal.Context(prec=60)
    # Trino's DecimalOperators: (10,2)/(10,2) -> decimal(min(38, 10 + 2 + max(2 - 2, 0)), 2) = (12,2);
    # + -> (1 + 2 + max(8, 8), 2) = (11,2); * -> (20, 4); % -> (min(8, 8) + 2, 2) = (10,2);
    # the integer 3 is a decimal(10,0): (10,2)/(10,0) -> (10,2)
    assert types[:5] == [("decimal", 12, 2), ("decimal", 11, 2), ("decimal", 20, 4), ("decimal", 10, 2),
                         ("decimal", 10, 2)]
    for row, (a, b) in zip(rows[1:], pairs, strict=True):
        assert row[:5] == [
            str(_half_up(ctx.divide(a, b), 2)),
            str(a + b),
            str(ctx.multiply(a, b)),
            str(ctx.remainder(a, b)),
            str(_half_up(ctx.divide(a, decimal.Decimal(3)), 2)),
        ]


def test_decimal_average_is_a_decimal_of_the_same_type(env):
    pairs = _money(env)
    rows, types = _typed(env, "SELECT avg(a), sum(a) FROM money")
    total = sum(a for a, _ in pairs)
    # Trino: avg(decimal(p,s)) is decimal(p,s) rounded half up; sum(decimal(p,s)) is decimal(38,s)
    assert types == [("decimal", 10, 2), ("decimal", 38, 2)]
    assert rows[1] == [str(_half_up(total / len(pairs), 2)), str(total)]


def test_literal_arithmetic_types(env):
    rows, types = _typed(
        env,
        "SELECT 2.0 / 3, 5 / 2, -7 / 2, 5 % 3.0, 7 / 2e0, date_add('day', 1, DATE '2024-01-02'), "
        "DATE '2024-03-31' - INTERVAL '1' MONTH",
    )
    # 2.0 is a decimal(2,1); 3 an integer (decimal(10,0)): decimal(2,1), 0.666.. rounded half up is 0.7
    # a date plus days or months is a date; a month back from March 31 is the last day of February
    assert rows[1] == ["0.7", str(5 // 2), str(int(-7 / 2)), "2.0", "3.5", "2024-01-03", "2024-02-29"]
    assert types == [("decimal", 2, 1), ("integer", 10, 0), ("integer", 10, 0), ("decimal", 2, 1),
                     ("double", 17, 0), ("date", 0, 0), ("date", 0, 0)]


def test_date_trunc_of_a_date_is_a_date(env):
    # Trino: date_trunc(unit, x) has x's type; a timestamp stays a timestamp
    day = datetime.date(2024, 5, 17)
    rows, types = _typed(
        env,
        "SELECT date_trunc('month', DATE '2024-05-17'), date_trunc('quarter', DATE '2024-05-17'), "
        "date_trunc('week', DATE '2024-05-17'), date_trunc('month', TIMESTAMP '2024-05-17 10:30:00')",
    )
    monday = day - datetime.timedelta(days=day.weekday())
    assert rows[1] == [day.replace(day=1).isoformat(), datetime.date(2024, 4, 1).isoformat(), monday.isoformat(),
                       "2024-05-01 00:00:00.000"]
    assert [t[0] for t in types] == ["date", "date", "date", "timestamp"]


def test_maps_print_as_athena_prints_them(env):
    rows = env.query("SELECT MAP(ARRAY['a', 'b'], ARRAY[1, 2]), ARRAY[MAP(ARRAY['x'], ARRAY[NULL])]")
    assert rows[1] == ["{a=1, b=2}", "[{x=null}]"]


# --------------------------------------------------------------------------- operands typed through sqlglot or DuckDB
# Trino never converts a varchar implicitly and parses a cast from varchar as above, whatever
# produced the string: a function, a subquery column, a correlated column, mixed VALUES rows.


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        # a VALUES column whose rows are a string and NULL; a function's result; a correlated column
        (
            "SELECT CAST(x AS integer) FROM (VALUES ('1.5'), (NULL)) AS t(x)",
            "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT",
        ),
        ("SELECT CAST(replace(tag, 'b', '1.5') AS integer) FROM codes WHERE id = 2",
         "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT"),
        (
            "SELECT (SELECT CAST(c.code AS integer) FROM codes d WHERE d.id = c.id) FROM codes c WHERE c.id = 2",
            "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT",
        ),
        (
            "SELECT CAST(v AS integer) FROM (SELECT code AS v FROM codes WHERE id = 2) s",
            "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT",
        ),
        ("SELECT round('1.5')", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(3)) for function round"),
        (
            "SELECT id FROM codes WHERE upper(tag) = 1",
            "TYPE_MISMATCH: line 1:39: Cannot apply operator: varchar = integer",
        ),
        (
            "SELECT id FROM codes WHERE length(tag) = '1'",
            "TYPE_MISMATCH: line 1:40: Cannot apply operator: bigint = varchar(1)",
        ),
        (
            "SELECT id FROM (SELECT tag AS t, id FROM codes) s WHERE t IN (1, 2)",
            "TYPE_MISMATCH: line 1:63: IN value and list items must be the same type or coercible to a common type. "
            "Cannot find common type between varchar and integer, all types (without duplicates): [varchar, integer]",
        ),
        (
            "SELECT upper(tag) FROM codes UNION SELECT id + 1 FROM codes",
            "TYPE_MISMATCH: line 1:30: column 1 in UNION query has incompatible types: varchar, integer",
        ),
    ],
)
def test_operands_of_any_expression_are_typed_as_trino(env, sql, reason):
    _codes(env)
    assert _reason(env, sql) == reason


def test_cast_of_a_value_only_duckdb_types_parses_as_trino(env):
    # split_part: sqlglot does not type its result; DuckDB's type (VARCHAR) decides at run time
    assert _reason(env, "SELECT CAST(split_part('1.5,2', ',', 1) AS integer)") == (
        "INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT"
    )
    rows = env.query(
        "SELECT CAST(split_part('-12,2', ',', 1) AS integer), TRY_CAST(split_part('x,2', ',', 1) AS integer), "
        "CAST(split_part('2024-1-5,x', ',', 1) AS date)"
    )
    assert rows[1] == [str(int("-12")), None, datetime.date(2024, 1, 5).isoformat()]


# --------------------------------------------------------------------------- doubles: IEEE 754 division, Java's parsing


def test_double_division_by_zero_is_infinity_or_nan(env):
    sql = "SELECT 1e0 / 0, -1e0 / 0, 0e0 / 0, 5e0 % 0, 1 / 0e0, CAST(1 AS real) / 0, 6e0 / 4"
    qid = env.run(sql)["QueryExecutionId"]
    # IEEE 754 (Python's float semantics); Trino prints Java's Double.toString: Infinity, -Infinity, NaN
    expected = [math.copysign(math.inf, 1.0), math.copysign(math.inf, -1.0), math.nan, math.nan, math.inf,
                math.inf, 6.0 / 4.0]
    java = ["NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity") if math.isinf(v) else repr(v)
            for v in expected]
    assert env.rows(qid)[1] == java
    body = env.s3.get_object(Bucket=env.results, Key=f"out/{qid}.csv")["Body"].read().decode()
    assert body.splitlines()[1] == ",".join(f'"{v}"' for v in java)
    meta = env.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [c["Type"] for c in meta] == ["double"] * 5 + ["real", "double"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Double.parseDouble(value.trim()): spaces and control characters around, Java's type suffixes,
        # NaN and Infinity spelled as Java spells them
        (" 1.5 ", 1.5),
        ("\t2e3\n", 2e3),
        ("1.5d", 1.5),
        ("-2F", -2.0),
        (".5", 0.5),
        ("7.", 7.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("NaN", math.nan),
    ],
)
def test_cast_to_double_parses_as_java(env, text, expected):
    value = env.query(f"SELECT CAST('{text}' AS double), TRY_CAST('{text}' AS double)")[1]
    shown = "NaN" if math.isnan(expected) else ("Infinity" if expected > 0 else "-Infinity") if math.isinf(
        expected) else repr(expected)
    assert value == [shown, shown]


@pytest.mark.parametrize("text", ["inf", "nan", "1,5", "1.5 x", "", "e3", "infinity"])
def test_cast_to_double_fails_where_java_does(env, text):
    assert _reason(env, f"SELECT CAST('{text}' AS double)") == f"INVALID_CAST_ARGUMENT: Cannot cast '{text}' to DOUBLE"
    assert _reason(env, f"SELECT CAST('{text}' AS real)") == f"INVALID_CAST_ARGUMENT: Cannot cast '{text}' to REAL"
    assert env.query(f"SELECT TRY_CAST('{text}' AS double)")[1] == [None]


def test_cast_of_hexadecimal_text_to_double_is_not_emulated(env):
    assert _reason(env, "SELECT CAST('0x1p3' AS double)") == (
        "NOT_SUPPORTED: Casting hexadecimal floating-point text to DOUBLE is not emulated by the sandbox"
    )


def test_cast_to_date_parses_iso_dates_as_trino(env):
    # Trino: the value trimmed, then Joda's ISO date parser: one or two digits for month and day
    rows = env.query(
        "SELECT CAST('2024-1-5' AS date), CAST(' 2024-01-05 ' AS date), CAST('2024-12-31' AS date), "
        "TRY_CAST('2024/01/05' AS date), TRY_CAST('2024-02-30' AS date)"
    )
    assert rows[1] == [
        datetime.date(2024, 1, 5).isoformat(),
        datetime.date(2024, 1, 5).isoformat(),
        datetime.date(2024, 12, 31).isoformat(),
        None,
        None,
    ]


@pytest.mark.parametrize("text", ["2024/01/05", "2024-02-30", "20240105", "2024-01-05T00:00", "2024-13-01"])
def test_cast_to_date_fails_as_trino(env, text):
    reason = _reason(env, f"SELECT CAST('{text}' AS date)")
    assert reason == f"INVALID_CAST_ARGUMENT: Value cannot be cast to date: {text}"


# --------------------------------------------------------------------------- decimal results of windows and functions


def test_decimal_average_over_a_window_or_with_a_filter_is_a_decimal(env):
    pairs = _money(env)
    rows, types = _typed(
        env,
        "SELECT id, avg(a) OVER (), avg(a) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), "
        "avg(a) FILTER (WHERE a > 0) FROM money GROUP BY id, a ORDER BY id",
    )
    # Trino: avg(decimal(10,2)) is decimal(10,2), rounded half up, in a window and with FILTER alike
    assert types[1:] == [("decimal", 10, 2)] * 3
    values = [a for a, _ in pairs]
    total = _half_up(sum(values) / len(values), 2)
    for i, row in enumerate(rows[1:]):
        running = _half_up(sum(values[: i + 1]) / (i + 1), 2)
        own = str(values[i]) if values[i] > 0 else None
        assert row[1:] == [str(total), str(running), own]
    rows, types = _typed(env, "SELECT avg(a) FILTER (WHERE a > 0) FROM money")
    positive = [a for a in values if a > 0]
    assert types == [("decimal", 10, 2)]
    assert rows[1] == [str(_half_up(sum(positive) / len(positive), 2))]


def test_round_floor_ceiling_of_a_decimal_have_trinos_types(env):
    pairs = _money(env)
    rows, types = _typed(env, "SELECT round(a, 1), round(a), floor(a), ceiling(a), round(-a, 1) FROM money ORDER BY id")
    # Trino's MathFunctions: round(decimal(p,s), d) is decimal(p+1,s) (rounded half up, printed at scale s);
    # round, floor and ceiling of decimal(p,s) are decimal(p-s+min(s,1),0)
    assert types == [("decimal", 11, 2), ("decimal", 9, 0), ("decimal", 9, 0), ("decimal", 9, 0), ("decimal", 11, 2)]
    for row, (a, _) in zip(rows[1:], pairs, strict=True):
        assert row == [
            str(_half_up(a, 1).quantize(decimal.Decimal("0.01"))),
            str(_half_up(a, 0)),
            str(a.to_integral_value(rounding=decimal.ROUND_FLOOR)),
            str(a.to_integral_value(rounding=decimal.ROUND_CEILING)),
            str(_half_up(-a, 1).quantize(decimal.Decimal("0.01"))),
        ]


def test_decimal_average_of_no_values_is_null(env):
    _money(env)
    rows, types = _typed(
        env, "SELECT avg(a), avg(a) FILTER (WHERE a > 1e9), max(avg(a)) OVER () FROM money WHERE id < 0"
    )
    assert types == [("decimal", 10, 2)] * 3
    assert rows[1] == [None, None, None]


# --------------------------------------------------------------------------- casts of a double or real to an integer
# Trino's DoubleOperators / RealOperators: MathFunctions.round (half away from zero), then a checked
# narrowing; NaN fails, a value out of range fails NUMERIC_VALUE_OUT_OF_RANGE with Java's text of it.


def _half_away(text: str) -> int:
    return int(decimal.Decimal(text).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


@pytest.mark.parametrize("text", ["2.5", "-2.5", "0.5", "1.5", "3.49", "-0.5", "2147483647.4", "-128.5"])
def test_cast_of_a_double_to_an_integer_rounds_half_away_from_zero(env, text):
    rows = env.query(
        f"SELECT CAST({text}e0 AS integer), CAST({text}e0 AS bigint), TRY_CAST({text}e0 AS integer), "
        f"CAST(CAST({text} AS real) AS bigint)"
    )
    expected = _half_away(text)
    # a real holds the value to float precision; these texts are exact or round the same in a float
    real = _half_away(repr(struct.unpack("<f", struct.pack("<f", float(text)))[0]))
    assert rows[1] == [str(expected), str(expected), str(expected), str(real)]


def test_cast_of_a_double_to_a_small_integer_type(env):
    rows = env.query(
        "SELECT CAST(126.5e0 AS tinyint), CAST(-32768.4e0 AS smallint), CAST(CAST(-2.5 AS real) AS integer)"
    )
    assert rows[1] == [str(_half_away("126.5")), str(_half_away("-32768.4")), str(_half_away("-2.5"))]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT CAST(3e9 AS integer)", "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for integer: 3.0E9"),
        ("SELECT CAST(2147483647.5e0 AS integer)",
         "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for integer: 2.1474836475E9"),
        ("SELECT CAST(127.5e0 AS tinyint)", "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for tinyint: 127.5"),
        ("SELECT CAST(-40000e0 AS smallint)", "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for smallint: -40000.0"),
        ("SELECT CAST(1e0 / 0 AS integer)", "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for integer: Infinity"),
        ("SELECT CAST(0e0 / 0 AS integer)", "INVALID_CAST_ARGUMENT: Cannot cast double NaN to integer"),
        ("SELECT CAST(CAST(0e0 / 0 AS real) AS smallint)", "INVALID_CAST_ARGUMENT: Cannot cast real NaN to smallint"),
        ("SELECT CAST(1e19 AS bigint)", "INVALID_CAST_ARGUMENT: Unable to cast 1.0E19 to bigint"),
        ("SELECT CAST(0e0 / 0 AS bigint)", "INVALID_CAST_ARGUMENT: Unable to cast NaN to bigint"),
        ("SELECT CAST(CAST(3e9 AS real) AS integer)", "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for integer: 3.0E9"),
        # a double only DuckDB types (sqlglot does not type to_unixtime): checked at run time
        ("SELECT CAST(to_unixtime(TIMESTAMP '2065-01-24 05:20:00') AS integer)",
         f"NUMERIC_VALUE_OUT_OF_RANGE: Out of range for integer: "
         f"{(datetime.datetime(2065, 1, 24, 5, 20) - datetime.datetime(1970, 1, 1)).total_seconds() / 1e9}E9"),
    ],
)
def test_cast_of_a_double_to_an_integer_fails_as_trino(env, sql, reason):
    assert _reason(env, sql) == reason


def test_cast_of_a_double_only_duckdb_types_rounds_as_trino(env):
    # to_unixtime of 2.5 seconds after the epoch is the double 2.5: Trino's cast rounds it to 3
    rows = env.query("SELECT CAST(to_unixtime(TIMESTAMP '1970-01-01 00:00:02.500') AS integer)")
    assert rows[1] == [str(_half_away("2.5"))]


def test_try_cast_of_a_double_out_of_range_is_null(env):
    assert env.query("SELECT TRY_CAST(3e9 AS integer), TRY_CAST(0e0 / 0 AS bigint)")[1] == [None, None]


def test_cast_of_a_real_to_bigint_saturates_as_javas_long_conversion(env):
    # RealOperators.castToLong: (long) MathFunctions.round(value); Java's (long) saturates
    assert env.query("SELECT CAST(CAST(1e30 AS real) AS bigint)")[1] == [str(2**63 - 1)]


def test_java_number_text_matches_javas_double_to_string():
    # Double.toString: plain between 10^-3 and 10^7, else d.dddE<n>; Float.toString the same for a float
    cases = [("3000000000.0", False, "3.0E9"), ("1e+20", False, "1.0E20"), ("127.5", False, "127.5"),
             ("-40000.0", False, "-40000.0"), ("0.001", False, "0.001"), ("1.5e-07", False, "1.5E-7"),
             ("10000000.0", False, "1.0E7"), ("9999999.0", False, "9999999.0"), ("inf", False, "Infinity"),
             ("0.33333334", True, "0.33333334"), ("3.4e+38", True, "3.4E38")]
    for text, real, java in cases:
        assert java_number(text, real) == java


# --------------------------------------------------------------------------- arguments of other functions
# Trino converts no varchar implicitly: a string where a function takes a number fails FUNCTION_NOT_FOUND
# (Trino's docs, "Conversion functions"); DuckDB would convert the literal.


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT power('2', 2)",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1), integer) for function power"),
        ("SELECT mod('5', 2)",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1), integer) for function mod"),
        ("SELECT sqrt('4')", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1)) for function sqrt"),
        ("SELECT exp('1')", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1)) for function exp"),
        ("SELECT sign('-3')", "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(2)) for function sign"),
        # functions the sandbox has no signature for: the literal is bound as a varchar, DuckDB refuses it
        ("SELECT radians('180')",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(3)) for function radians"),
        ("SELECT lpad('a', '3', 'x')",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1), varchar(1), varchar(1)) for function lpad"),
        ("SELECT from_unixtime('0')",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (varchar(1)) for function from_unixtime"),
        # special forms and functions whose operands need one common type
        ("SELECT greatest(1, '2')",
         "FUNCTION_NOT_FOUND: line 1:8: Unexpected parameters (integer, varchar(1)) for function greatest"),
        ("SELECT coalesce(CAST(NULL AS integer), '5')",
         "TYPE_MISMATCH: line 1:8: All COALESCE operands must be the same type or coercible to a common type. "
         "Cannot find common type between integer and varchar(1), all types (without duplicates): "
         "[integer, varchar(1)]"),
        ("SELECT CASE WHEN id = 1 THEN id ELSE tag END FROM codes",
         "TYPE_MISMATCH: line 1:8: All CASE results must be the same type or coercible to a common type. "
         "Cannot find common type between integer and varchar, all types (without duplicates): [integer, varchar]"),
        ("SELECT nullif(id, '1') FROM codes",
         "TYPE_MISMATCH: line 1:8: Types are not comparable with NULLIF: integer vs varchar(1)"),
    ],
)
def test_other_functions_with_an_argument_of_another_kind_fail_as_trino(env, sql, reason):
    _codes(env)
    assert _reason(env, sql) == reason


def test_functions_with_string_literal_arguments_of_the_right_kind_still_run(env):
    _codes(env)
    rows = env.query(
        "SELECT lpad(tag, 3, '0'), replace(tag, 'a', 'z'), split_part('x,y', ',', 2), regexp_like(tag, '^[ab]$'), "
        "format_datetime(TIMESTAMP '2024-01-05 10:00:00', 'yyyy/MM/dd'), "
        "date_format(TIMESTAMP '2024-01-05 10:00:00', '%Y-%m'), "
        "coalesce(tag, 'none'), power(2, 3), mod(7, 3), "
        "date_parse('2024-01-05', '%Y-%m-%d') FROM codes WHERE id = 1"
    )
    assert rows[1] == [
        "a".rjust(3, "0"), "z", "y", "true", "2024/01/05", "2024-01", "a",
        str(float(2**3)), str(7 % 3), "2024-01-05 00:00:00.000",
    ]


# --------------------------------------------------------------------------- comparisons with a value only DuckDB types
# to_unixtime: sqlglot does not type it (DuckDB answers a DOUBLE); split_part: DuckDB answers a VARCHAR.
# Trino compares neither with the other kind; DuckDB would convert the string.


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT to_unixtime(TIMESTAMP '1970-01-01 00:00:01') = '1'",
         "TYPE_MISMATCH: line 1:53: Cannot apply operator: double = varchar(1)"),
        ("SELECT '1' < to_unixtime(TIMESTAMP '1970-01-01 00:00:01')",
         "TYPE_MISMATCH: line 1:12: Cannot apply operator: varchar(1) < double"),
        ("SELECT to_unixtime(TIMESTAMP '1970-01-01 00:00:01') IN ('1', '2')",
         "TYPE_MISMATCH: line 1:8: IN value and list items must be the same type or coercible to a common type. "
         "Cannot find common type between varchar(1) and double, all types (without duplicates): [varchar(1), double]"),
        ("SELECT to_unixtime(TIMESTAMP '1970-01-01 00:00:01') BETWEEN '0' AND '2'",
         "TYPE_MISMATCH: line 1:8: Cannot check if double is BETWEEN varchar(1) and varchar(1)"),
    ],
)
def test_comparisons_with_a_value_only_duckdb_types_fail_as_trino(env, sql, reason):
    assert _reason(env, sql) == reason


def test_comparisons_with_a_value_only_duckdb_types_of_the_same_kind_still_run(env):
    rows = env.query(
        "SELECT to_unixtime(TIMESTAMP '1970-01-01 00:00:01') = 1, to_unixtime(TIMESTAMP '1970-01-01 00:00:02') "
        "BETWEEN 1 AND 3, to_unixtime(TIMESTAMP '1970-01-01 00:00:01') IN (1, 2)"
    )
    assert rows[1] == ["true", "true", "true"]
