"""Where a Glue job run's output goes: CloudWatch Logs groups per job kind, fed from the run's files."""

from __future__ import annotations

from pathlib import Path

from ..state import put_log_lines

#: Log group of a job's runs by ``Command.Name`` (output and error streams are ``<group>/output|error``).
LOG_GROUPS = {"pythonshell": "/aws-glue/python-jobs", "glueetl": "/aws-glue/jobs",
              "gluestreaming": "/aws-glue/jobs", "glueray": "/aws-glue/ray"}


def log_group_for(kind: str) -> str:
    return LOG_GROUPS.get(kind, "/aws-glue/jobs")


class LogPump:
    """Forwards complete lines of a growing file to a log stream; keeps the lines it forwarded."""

    def __init__(self, path: Path, region: str, group: str, stream: str) -> None:
        self.path, self.region, self.group, self.stream = path, region, group, stream
        self.offset = 0
        self.rest = b""
        self.lines: list[str] = []

    def pump(self, final: bool = False) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        data = self.rest + chunk
        parts = data.split(b"\n")
        self.rest = parts.pop()
        if final and self.rest:
            parts.append(self.rest)
            self.rest = b""
        lines = [p.decode("utf-8", "replace").rstrip("\r") for p in parts]
        self.lines.extend(lines)
        put_log_lines(self.region, self.group, self.stream, [ln for ln in lines if ln] or [])

    def last_line(self) -> str:
        """The last non-blank line forwarded, stripped ("" if none)."""
        for line in reversed(self.lines):
            if line.strip():
                return line.strip()
        return ""
