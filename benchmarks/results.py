"""What a benchmark section hands back: a titled table plus notes, rendered as Markdown."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Section:
    """One benchmark section: ``rows`` share ``columns``; ``notes`` explain method and caveats."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  #: headline numbers (for tests / summary)
    error: str | None = None

    def add(self, *row: Any) -> None:
        self.rows.append(list(row))

    def numbers(self) -> list[float]:
        """Every finite number in the table and the figures."""
        out = [
            float(v) for r in self.rows for v in r if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        out += [float(v) for v in self.figures.values()]
        return [v for v in out if math.isfinite(v)]


def fmt(value: Any) -> str:
    """A table cell: floats with 3 significant figures (4 for large), the rest as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def markdown_table(columns: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def render_section(section: Section) -> str:
    parts = [f"## {section.title}", ""]
    if section.error:
        parts += [f"**Not measured: {section.error}**", ""]
    if section.rows:
        parts += [markdown_table(section.columns, section.rows), ""]
    parts += [f"- {note}" for note in section.notes]
    return "\n".join(parts).rstrip() + "\n"
