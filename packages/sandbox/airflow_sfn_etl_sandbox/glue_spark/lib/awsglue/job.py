"""``awsglue.job.Job``: init and commit. The sandbox keeps no job bookmarks."""

from __future__ import annotations

from typing import Any


class Job:
    """A Glue job run's handle for bookmarks. The sandbox keeps none: every run reads all its input."""

    @classmethod
    def continuation_options(cls) -> list[str]:
        return ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]

    @classmethod
    def job_bookmark_options(cls) -> list[str]:
        return ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]

    @classmethod
    def job_bookmark_range_options(cls) -> list[str]:
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls) -> list[str]:
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls) -> list[str]:
        return ["--encryption-type", "sse-s3"]

    @classmethod
    def data_lineage_options(cls) -> list[str]:
        return ["--enable-data-lineage"]

    def __init__(self, glue_context_or_spark_session: Any) -> None:
        from awsglue.context import GlueContext
        from pyspark.sql import SparkSession

        if isinstance(glue_context_or_spark_session, GlueContext):
            self._glue_context: GlueContext | None = glue_context_or_spark_session
            self._spark_session = glue_context_or_spark_session.spark_session
        elif isinstance(glue_context_or_spark_session, SparkSession):
            self._glue_context = None
            self._spark_session = glue_context_or_spark_session
        else:
            raise Exception("cannot init Job instance given input parameter type: "
                            + str(type(glue_context_or_spark_session)))
        self._name: str | None = None
        self._initialized = False

    def init(self, job_name: str, args: dict[str, Any] | None = None) -> None:
        self._name = job_name
        self._initialized = True
        option = (args or {}).get("job_bookmark_option") or "job-bookmark-disable"
        _log(f"Job {job_name}: job bookmarks are not kept by the sandbox ({option} acts as job-bookmark-disable): "
             "this run reads all of its input and transformation_ctx values are not recorded")

    def isInitialized(self) -> bool:  # noqa: N802 (Glue's name)
        return self._initialized

    def commit(self) -> None:
        _log(f"Job {self._name}: commit (no job bookmark is stored by the sandbox)")


def _log(message: str) -> None:
    from awsglue.context import GlueLogger

    GlueLogger().info(message)
