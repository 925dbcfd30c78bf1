"""The ``awsglue`` API of Glue Spark jobs, emulated over local PySpark by the AWS sandbox.

This package is put on the path of ``glueetl`` runs only. It is the sandbox's own small layer
(the ``awsglue`` packages on PyPI drive Glue's Scala library through py4j, which is not
available outside Glue): see docs/decisions/0009-glue-spark-on-local-pyspark.md. An API that is
not emulated raises NotImplementedError saying so.
"""
