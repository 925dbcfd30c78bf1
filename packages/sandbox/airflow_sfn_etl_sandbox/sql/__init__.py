"""Athena's SQL for the sandbox: Trino/Hive statements run on DuckDB over Glue-catalog tables in S3.

- :mod:`.engine` classifies and runs one statement;
- :mod:`.ddl` handles Hive DDL (external tables, databases, partitions, MSCK REPAIR, SHOW/DESCRIBE);
- :mod:`.query` runs SELECT and CTAS on DuckDB;
- :mod:`.translate` rewrites Trino SQL for DuckDB; :mod:`.types` maps Hive/DuckDB/Athena types;
- :mod:`.catalog` reads and writes the Glue catalog; :mod:`.storage` reads and caches S3 files;
- :mod:`.projection` computes the partitions of a table with partition projection.
"""

from __future__ import annotations

from .context import Context, Result
from .engine import execute, statement_kind
from .errors import QueryError

__all__ = ["Context", "QueryError", "Result", "execute", "statement_kind"]
