"""``getResolvedOptions``: the job's ``--name value`` arguments, as Glue resolves them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

_BOOKMARK = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")
_CONTINUATION = ("continuation-enabled", "continuation-readonly", "continuation-ignore")
#: Arguments Glue reserves for itself; asking for them by name is an error, as on Glue.
_RESERVED = ("continuation-option", "job-bookmark-option", "job-bookmark-from", "job-bookmark-to")
_ID_PARAMS = ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION")


class GlueArgumentError(Exception):
    """A required job argument is missing or an argument has a value Glue does not accept."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str | None]:  # noqa: N802
    """Values of ``--<option>`` in ``args`` (``sys.argv``) for each name in ``options``, all required.

    The result also holds the arguments Glue resolves for every job: ``job_bookmark_option``
    (``job-bookmark-disable`` unless given), ``job_bookmark_from``/``_to``, ``JOB_ID``, ``JOB_RUN_ID``,
    ``SECURITY_CONFIGURATION``, ``encryption_type``, ``enable_data_lineage``, ``TempDir`` and
    ``RedshiftTempDir`` (each ``None`` when not passed).
    """
    for name in options:
        if name in _RESERVED:
            raise RuntimeError(f"Using reserved arguments {name}")
    parser = _Parser(add_help=False, allow_abbrev=False)
    parser.add_argument("--job-bookmark-option", choices=_BOOKMARK)
    parser.add_argument("--continuation-option", choices=_CONTINUATION)
    parser.add_argument("--job-bookmark-from")
    parser.add_argument("--job-bookmark-to")
    for name in _ID_PARAMS:
        if name not in options:
            parser.add_argument("--" + name)
    parser.add_argument("--enable-data-lineage")
    parser.add_argument("--encryption-type", choices=("sse-s3",))
    parser.add_argument("--RedshiftTempDir")
    parser.add_argument("--TempDir")
    for name in options:
        if name in ("TempDir", "RedshiftTempDir"):
            continue
        parser.add_argument("--" + name, required=True)
    parsed, _ = parser.parse_known_args(list(args)[1:])
    resolved = vars(parsed)
    if resolved.get("TempDir") is not None:
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved.get("RedshiftTempDir") is not None:
        resolved["TempDir"] = resolved["RedshiftTempDir"]
    continuation = resolved.pop("continuation_option", None)
    if resolved.get("job_bookmark_option") is None:
        resolved["job_bookmark_option"] = (_BOOKMARK[_CONTINUATION.index(continuation)] if continuation
                                           else "job-bookmark-disable")
    absent = [name for name in ("job_bookmark_from", "job_bookmark_to") if resolved.get(name) is None]
    if resolved["job_bookmark_option"] == "job-bookmark-pause":
        if len(absent) == 1:
            raise RuntimeError("Missing option or value for --" + absent[0].replace("_", "-"))
    elif not absent:
        raise RuntimeError("Invalid option(s) --job-bookmark-from --job-bookmark-to")
    return resolved
