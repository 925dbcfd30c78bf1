"""Trino's datetime formatting on the sandbox: ``format_datetime`` (Joda-Time patterns) and ``date_format``
(MySQL specifiers). Expected strings come from Python's strftime with each letter's documented meaning."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tests.sandbox.test_athena import Env


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def test_format_datetime_and_date_format(env):
    stamps = [dt.datetime(2024, 3, 5, 7, 8, 9, 123456), dt.datetime(2023, 12, 31, 23, 59, 1, 5000)]
    env.put_parquet("ts/t.parquet", pa.table({"ts": pa.array(stamps, pa.timestamp("us"))}))
    env.run(f"CREATE EXTERNAL TABLE ts (ts timestamp) STORED AS PARQUET LOCATION 's3://{env.data}/ts/'")
    got = env.query(
        "SELECT format_datetime(ts, 'yyyy-MM-dd HH:mm:ss.SSS'), format_datetime(ts, 'MMM d, yyyy h:mm a'), "
        "format_datetime(ts, 'EEEE dd/MM/yy ''at'' H'), date_format(ts, '%Y-%m-%d %H:%i:%s'), "
        "date_format(ts, '%W %e %M %r') FROM ts ORDER BY ts"
    )[1:]
    # Python's strftime, with Joda's and MySQL's meaning of each letter.
    expected = [
        [
            f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d}",
            f"{t:%b} {t.day}, {t:%Y} {t.hour % 12 or 12}:{t:%M %p}",
            f"{t:%A %d/%m/%y} at {t.hour}",
            f"{t:%Y-%m-%d %H:%M:%S}",
            f"{t:%A} {t.day} {t:%B %I:%M:%S %p}",
        ]
        for t in sorted(stamps)
    ]
    assert got == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("format_datetime(ts, 'xxxx-ww')", "NOT_SUPPORTED: format_datetime pattern 'xxxx' (in 'xxxx-ww') is not"),
        ("format_datetime(ts, 'yyyy ZZ')", "NOT_SUPPORTED: format_datetime pattern 'ZZ'"),
        ("date_format(ts, '%D')", "NOT_SUPPORTED: date_format specifier %D"),
    ],
)
def test_datetime_patterns_the_sandbox_cannot_translate_fail_saying_so(env, expression, reason):
    ex = env.run(f"SELECT {expression} FROM (VALUES TIMESTAMP '2024-01-01 00:00:00') AS t(ts)", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith(reason)
    assert "not emulated by the sandbox" in ex["Status"]["StateChangeReason"]
