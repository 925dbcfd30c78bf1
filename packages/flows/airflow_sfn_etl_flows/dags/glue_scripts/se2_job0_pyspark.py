"""Glue ETL (Spark) job ``se2_job0`` for real AWS: catalog table -> typed, null-free Parquet.

Arguments: ``--JOB_NAME``, ``--database``, ``--table``, ``--output_path``.
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, DropNullFields, ResolveChoice
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "database", "table", "output_path"])
glue_context = GlueContext(SparkContext.getOrCreate())
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

source = glue_context.create_dynamic_frame.from_catalog(
    database=args["database"], table_name=args["table"], transformation_ctx="source"
)
mapped = ApplyMapping.apply(
    frame=source,
    mappings=[
        ("deviceid", "string", "deviceid", "string"),
        ("uuid", "long", "uuid", "long"),
        ("appid", "long", "appid", "long"),
        ("country", "string", "country", "string"),
        ("year", "long", "year", "long"),
        ("month", "long", "month", "long"),
        ("day", "long", "day", "long"),
        ("hour", "long", "hour", "long"),
    ],
    transformation_ctx="mapped",
)
resolved = ResolveChoice.apply(frame=mapped, choice="make_struct", transformation_ctx="resolved")
cleaned = DropNullFields.apply(frame=resolved, transformation_ctx="cleaned")
glue_context.write_dynamic_frame.from_options(
    frame=cleaned,
    connection_type="s3",
    connection_options={"path": args["output_path"]},
    format="parquet",
    transformation_ctx="sink",
)
job.commit()
