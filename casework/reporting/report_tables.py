"""A table of figures as pages, charts and exports all read it: one shape, many renderings.

Indicators build `Table`s; the web page renders them as a chart plus an accessible table,
and exports write the very same rows to CSV or XLSX, so a download always matches the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

Cell = str | int | float | Decimal | date | None


@dataclass(frozen=True)
class Column:
    key: str  # stable, ASCII: the CSV header and the XLSX header
    label: str  # in the reader's language
    # "text", "count", "share" (0..1, shown as a percentage), "days", "date"
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    key: str  # stable identifier: file names and anchors (e.g. "gender")
    title: str  # in the reader's language
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""  # how the figures were computed, in the reader's language
    # Which chart shows the table best: "bars", "funnel", "trend" or "" (table only).
    chart: str = ""
    # A short name for its XLSX sheet (Excel allows 31 characters); the title when empty.
    sheet: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.key!r}: a row has {len(row)} cells for {len(self.columns)} columns")
