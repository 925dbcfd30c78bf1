"""Glue Spark (``glueetl``) job runs on local PySpark, with the ``awsglue`` API emulated.

:func:`run_glueetl` is the entry point the Glue job runs call; :mod:`.runner` keeps one warm Spark
JVM (:mod:`.host`) for all runs and starts one driver process (:mod:`.driver`) per run; ``lib/``
holds the ``awsglue`` package put on the runs' Python path. See
docs/decisions/0009-glue-spark-on-local-pyspark.md.
"""

from .runner import run_glueetl, shutdown, spark_available

__all__ = ["run_glueetl", "shutdown", "spark_available"]
