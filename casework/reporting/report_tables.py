"""A table of figures as pages, charts and exports all read it: one shape, many renderings.

Indicators build `Table`s; the web page renders them as a chart plus an accessible table,
and exports write the very same rows to CSV or XLSX, so a download always matches the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from casework.small_counts import SMALL_COUNT, is_small

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


def with_small_counts_withheld(table: Table) -> Table:
    """The table with every count from 1 to 4 written "<5", and the shares and durations of
    those rows left out (a share of a known total gives the count back)."""
    counts = [index for index, column in enumerate(table.columns) if column.kind == "count"]
    derived = [index for index, column in enumerate(table.columns) if column.kind in ("share", "days")]
    rows = []
    for row in table.rows:
        small = [index for index in counts if is_small(row[index])]
        if not small:
            rows.append(row)
            continue
        cells = list(row)
        for index in small:
            cells[index] = SMALL_COUNT
        for index in derived:
            cells[index] = None
        rows.append(tuple(cells))
    return replace(table, rows=tuple(rows))
