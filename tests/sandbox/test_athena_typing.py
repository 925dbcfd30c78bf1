"""Trino's typing on the sandbox: casts, function arguments, arithmetic and decimal results.

Expected values are Trino's documented behaviour (its cast, operator and function rules) or are
computed here with Python's ``decimal`` module, never read back from the sandbox.
"""

from __future__ import annotations

import decimal

import pyarrow as pa
import pytest

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


def test_maps_print_as_athena_prints_them(env):
    rows = env.query("SELECT MAP(ARRAY['a', 'b'], ARRAY[1, 2]), ARRAY[MAP(ARRAY['x'], ARRAY[NULL])]")
    assert rows[1] == ["{a=1, b=2}", "[{x=null}]"]
