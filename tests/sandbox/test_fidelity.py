"""Where the sandbox could answer differently from AWS: it matches AWS's documented behaviour or fails saying so."""

from __future__ import annotations

import csv
import io

import pytest

from tests.sandbox.test_athena import Env


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


RAGGED = b"id,name,city\n1,ann,oslo\n2,bob\n3,cid,rome,extra,more\n4\n5,eve,\"lima, pe\"\n"


def _serde_rows(raw: bytes, width: int, skip: int, **fmt) -> list[list[str | None]]:
    """Rows as Hive's text SerDes read them: fields past the columns ignored, missing trailing fields NULL."""
    rows = list(csv.reader(io.StringIO(raw.decode(), newline=""), **fmt))[skip:]
    return [[r[i] if i < len(r) else None for i in range(width)] for r in rows if r]


def test_csv_rows_with_fewer_or_more_fields_are_kept(env):
    env.s3.put_object(Bucket=env.data, Key="ragged/people.csv", Body=RAGGED)
    env.run(f"""CREATE EXTERNAL TABLE people (id string, name string, city string)
                ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
                LOCATION 's3://{env.data}/ragged/' TBLPROPERTIES ('skip.header.line.count'='1')""")
    expected = _serde_rows(RAGGED, 3, 1)
    assert len(expected) == 5
    assert env.query("SELECT id, name, city FROM people ORDER BY id")[1:] == expected


def test_lazy_simple_text_rows_with_fewer_or_more_fields_are_kept(env):
    raw = b"1|ann|oslo\n2|bob\n3|cid|rome|extra\n4\n"
    env.s3.put_object(Bucket=env.data, Key="pipes/people.txt", Body=raw)
    env.run(f"""CREATE EXTERNAL TABLE pipes (id int, name string, city string)
                ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/pipes/'""")
    expected = _serde_rows(raw, 3, 0, delimiter="|", quoting=csv.QUOTE_NONE)
    assert env.query("SELECT id, name, city FROM pipes ORDER BY id")[1:] == expected
    assert env.query("SELECT count(*) FROM pipes")[1:] == [[str(len(expected))]]
