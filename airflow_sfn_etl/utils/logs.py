"""What the provider's helpers need of a logger, so they take the standard one or Airflow's."""

from __future__ import annotations

from typing import Protocol


class InfoLog(Protocol):
    """A logger with ``info(msg, *args)``: a ``logging.Logger``, or an operator's or trigger's ``self.log``."""

    def info(self, msg: str, /, *args: object) -> object: ...
