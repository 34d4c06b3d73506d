"""Indicator tables drawn as SVG on the server: horizontal bars, a funnel, a monthly trend.

Each chart writes its numbers next to the bars and tells series apart by fill pattern as
well as colour, so neither colour vision nor the picture alone carries the figures; the
page shows the same table beside it. Built with ElementTree, so every label is escaped, and
drawn with presentation attributes only: nothing a strict Content-Security-Policy blocks.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from casework.identity_memo import IdentityMemo
from casework.reporting.report_tables import Cell, Table

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT = "Titillium Web, Helvetica, Arial, sans-serif"
INK = "#1a1a1a"
PRIMARY = "#0066cc"
PRIMARY_DARK = "#003366"
GREY = "#5c6f82"
WHITE = "#ffffff"

WIDTH = 720
MARGIN = 12
LABEL_WIDTH = 250
LABEL_CHARS = 34
VALUE_ROOM = 110
BAR_HEIGHT = 22
ROW_GAP = 12
LINE_HEIGHT = 14
FONT_SIZE = 13
SMALL_FONT = 11
PLOT_HEIGHT = 200
MIN_BAR_SLOT = 22  # horizontal room per bar of the trend, so its number fits above it


@dataclass(frozen=True)
class ChartText:
    """The chart's own words in the reader's language (the caller translates)."""

    no_data: str


@dataclass(frozen=True)
class _Series:
    label: str
    fill: str
    pattern: str | None = None  # id suffix of a hatch pattern drawn over the fill
    stroke: str = PRIMARY_DARK


def chart_svg(table: Table, *, locale: str, text: ChartText) -> Markup:
    """The table's chart (its `chart` says which) as an inline <svg>; empty markup for none."""
    if table.chart not in _DRAWERS:
        return Markup("")
    return _DRAWN.get(table, (locale, text),
                      lambda: Markup(ET.tostring(_DRAWERS[table.chart](table, locale, text), encoding="unicode")))


# Reports kept by the figure cache hand the same (frozen) tables to every page view until the
# data changes: drawing was then the indicators page's largest cost, for the same picture.
_DRAWN: IdentityMemo[Markup] = IdentityMemo()


def _clean(text: str) -> str:
    """Text an XML document can hold: no control characters."""
    return "".join(ch for ch in str(text) if not unicodedata.category(ch).startswith("C"))


def _wrap(text: str, width: int, lines: int = 2) -> list[str]:
    wrapped: list[str] = []
    for word in _clean(text).split():
        if wrapped and len(wrapped[-1]) + 1 + len(word) <= width:
            wrapped[-1] += " " + word
        else:
            wrapped.append(word)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return wrapped or [""]


def _index(table: Table, key: str) -> int | None:
    keys = [column.key for column in table.columns]
    return keys.index(key) if key in keys else None


def _count_indexes(table: Table) -> list[int]:
    return [index for index, column in enumerate(table.columns) if column.kind == "count"]


def _number(value: Cell, locale: str) -> str:
    return format_decimal(value or 0, locale=locale)


def _figure(count: Cell, share: Cell, locale: str) -> str:
    """"12 (60%)": the count, and its share when there is one."""
    if share is None:
        return _number(count, locale)
    return f"{_number(count, locale)} ({format_percent(share, format='#,##0.#%', locale=locale)})"


def _svg(table: Table, width: float, height: float, summary: str) -> ET.Element:
    ident = f"chart-{table.key}"
    svg = ET.Element("svg", {
        "xmlns": SVG_NAMESPACE, "version": "1.1", "role": "img", "class": "indicator-chart",
        "aria-labelledby": f"{ident}-title {ident}-desc", "width": "100%",
        "viewBox": f"0 0 {width:.0f} {height:.0f}", "preserveAspectRatio": "xMinYMin meet", "id": ident,
    })
    ET.SubElement(svg, "title", {"id": f"{ident}-title"}).text = _clean(table.title)
    ET.SubElement(svg, "desc", {"id": f"{ident}-desc"}).text = _clean(summary)
    ET.SubElement(svg, "rect", {"x": "0", "y": "0", "width": f"{width:.0f}", "height": f"{height:.0f}", "fill": WHITE})
    return svg


def _text(parent: ET.Element, lines: Sequence[str], x: float, y: float, *, anchor: str = "start",
          size: int = FONT_SIZE, weight: str = "normal") -> None:
    element = ET.SubElement(parent, "text", {
        "x": f"{x:.1f}", "y": f"{y:.1f}", "font-family": FONT, "font-size": str(size), "fill": INK,
        "text-anchor": anchor, "font-weight": weight,
    })
    for index, line in enumerate(lines):
        span = ET.SubElement(element, "tspan", {"x": f"{x:.1f}", "dy": "0" if index == 0 else str(LINE_HEIGHT)})
        span.text = line if index == len(lines) - 1 else line + " "


def _empty(table: Table, text: ChartText) -> ET.Element:
    svg = _svg(table, WIDTH, 60, text.no_data)
    _text(svg, [_clean(text.no_data)], MARGIN, 36)
    return svg


def _rows(table: Table) -> list[tuple[str, Cell, Cell]]:
    """(label, count, share) of each row: the label column, the first count, the share if any."""
    label_at = _index(table, "label")
    counts = _count_indexes(table)
    share_at = _index(table, "share")
    if share_at is None:
        share_at = next((i for i, column in enumerate(table.columns) if column.kind == "share"), None)
    if label_at is None or not counts:
        return []
    return [(str(row[label_at]), row[counts[0]], row[share_at] if share_at is not None else None)
            for row in table.rows]


def _horizontal(table: Table, locale: str, text: ChartText, *, centred: bool) -> ET.Element:
    rows = _rows(table)
    if not rows:
        return _empty(table, text)
    largest = max((count or 0) for _, count, _ in rows)
    bar_room = WIDTH - 2 * MARGIN - LABEL_WIDTH - VALUE_ROOM
    height = 2 * MARGIN + len(rows) * (BAR_HEIGHT + ROW_GAP) - ROW_GAP
    summary = "; ".join(f"{label}: {_figure(count, share, locale)}" for label, count, share in rows)
    svg = _svg(table, WIDTH, height, summary)
    drawing = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    left = MARGIN + LABEL_WIDTH
    for index, (label, count, share) in enumerate(rows):
        top = MARGIN + index * (BAR_HEIGHT + ROW_GAP)
        length = bar_room * (count or 0) / largest if largest else 0
        if count:
            length = max(length, 2)  # a bar of one among thousands is still seen
        x = left + (bar_room - length) / 2 if centred else left
        lines = _wrap(label, LABEL_CHARS)
        first_baseline = top + BAR_HEIGHT / 2 + FONT_SIZE / 3 - (len(lines) - 1) * LINE_HEIGHT / 2
        _text(drawing, lines, left - 8, first_baseline, anchor="end")
        ET.SubElement(drawing, "rect", {
            "x": f"{x:.1f}", "y": f"{top:.1f}", "width": f"{length:.1f}", "height": str(BAR_HEIGHT),
            "fill": PRIMARY, "stroke": PRIMARY_DARK, "stroke-width": "1",
        })
        value_x = (left + bar_room + 8) if centred else (x + length + 8)
        _text(drawing, [_figure(count, share, locale)], value_x, top + BAR_HEIGHT / 2 + FONT_SIZE / 3,
              weight="bold")
    if centred:
        ET.SubElement(drawing, "line", {
            "x1": f"{left + bar_room / 2:.1f}", "x2": f"{left + bar_room / 2:.1f}", "y1": str(MARGIN / 2),
            "y2": f"{height - MARGIN / 2:.1f}", "stroke": GREY, "stroke-width": "1", "stroke-dasharray": "3 3",
        })
    else:
        ET.SubElement(drawing, "line", {
            "x1": f"{left:.1f}", "x2": f"{left:.1f}", "y1": str(MARGIN / 2), "y2": f"{height - MARGIN / 2:.1f}",
            "stroke": INK, "stroke-width": "1",
        })
    return svg


def _bars(table: Table, locale: str, text: ChartText) -> ET.Element:
    return _horizontal(table, locale, text, centred=False)


def _funnel(table: Table, locale: str, text: ChartText) -> ET.Element:
    return _horizontal(table, locale, text, centred=True)


def _series_styles(table: Table, counts: list[int]) -> list[_Series]:
    styles = [
        _Series("", PRIMARY_DARK),
        _Series("", "#a9cdf2", pattern="hatch"),
        _Series("", WHITE, pattern="dots"),
    ]
    return [
        _Series(table.columns[index].label, styles[n % len(styles)].fill, styles[n % len(styles)].pattern)
        for n, index in enumerate(counts)
    ]


def _patterns(svg: ET.Element, ident: str) -> None:
    defs = ET.SubElement(svg, "defs")
    hatch = ET.SubElement(defs, "pattern", {
        "id": f"{ident}-hatch", "width": "6", "height": "6", "patternUnits": "userSpaceOnUse",
        "patternTransform": "rotate(45)",
    })
    ET.SubElement(hatch, "rect", {"width": "6", "height": "6", "fill": "#a9cdf2"})
    ET.SubElement(hatch, "line", {"x1": "0", "y1": "0", "x2": "0", "y2": "6", "stroke": PRIMARY_DARK,
                                  "stroke-width": "2"})
    dots = ET.SubElement(defs, "pattern", {"id": f"{ident}-dots", "width": "6", "height": "6",
                                           "patternUnits": "userSpaceOnUse"})
    ET.SubElement(dots, "rect", {"width": "6", "height": "6", "fill": WHITE})
    ET.SubElement(dots, "circle", {"cx": "3", "cy": "3", "r": "1.3", "fill": PRIMARY_DARK})


def _swatch(parent: ET.Element, series: _Series, ident: str, x: float, y: float, width: float, height: float) -> None:
    fill = f"url(#{ident}-{series.pattern})" if series.pattern else series.fill
    ET.SubElement(parent, "rect", {
        "x": f"{x:.1f}", "y": f"{y:.1f}", "width": f"{width:.1f}", "height": f"{height:.1f}",
        "fill": fill, "stroke": series.stroke, "stroke-width": "1",
    })


def _trend(table: Table, locale: str, text: ChartText) -> ET.Element:
    label_at = _index(table, "label")
    counts = _count_indexes(table)
    if label_at is None or not counts or not table.rows:
        return _empty(table, text)
    series = _series_styles(table, counts)
    slot = max(MIN_BAR_SLOT, (WIDTH - 2 * MARGIN) / (len(table.rows) * (len(counts) + 1)))
    group = slot * (len(counts) + 1)
    width = max(WIDTH, 2 * MARGIN + group * len(table.rows))
    legend_height = 28
    top = MARGIN + legend_height + SMALL_FONT + 6
    baseline = top + PLOT_HEIGHT
    height = baseline + 2 * LINE_HEIGHT + MARGIN
    largest = max((row[index] or 0) for row in table.rows for index in counts)
    summary = "; ".join(
        f"{row[label_at]}: " + ", ".join(f"{s.label} {_number(row[index], locale)}" for s, index in zip(series, counts))
        for row in table.rows
    )
    svg = _svg(table, width, height, summary)
    ident = f"chart-{table.key}"
    _patterns(svg, ident)
    drawing = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    x = MARGIN
    for style in series:  # the legend: each series' swatch and name
        _swatch(drawing, style, ident, x, MARGIN, 18, 14)
        _text(drawing, [_clean(style.label)], x + 24, MARGIN + 12)
        x += 24 + len(style.label) * FONT_SIZE * 0.55 + 24
    ET.SubElement(drawing, "line", {
        "x1": str(MARGIN), "x2": f"{width - MARGIN:.1f}", "y1": f"{baseline:.1f}", "y2": f"{baseline:.1f}",
        "stroke": INK, "stroke-width": "1",
    })
    for number, row in enumerate(table.rows):
        left = MARGIN + number * group + slot / 2
        for position, (style, index) in enumerate(zip(series, counts)):
            value = row[index] or 0
            bar = PLOT_HEIGHT * value / largest if largest else 0
            bar_x = left + position * slot
            if value:
                _swatch(drawing, style, ident, bar_x + 1, baseline - max(bar, 1), slot - 2, max(bar, 1))
            _text(drawing, [_number(value, locale)], bar_x + slot / 2, baseline - bar - 4, anchor="middle",
                  size=SMALL_FONT)
        _text(drawing, _wrap(str(row[label_at]), 12), left + slot * len(counts) / 2, baseline + LINE_HEIGHT,
              anchor="middle", size=SMALL_FONT)
    return svg


_DRAWERS: dict[str, Callable[[Table, str, ChartText], ET.Element]] = {"bars": _bars, "funnel": _funnel, "trend": _trend}
