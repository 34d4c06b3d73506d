"""A workflow definition drawn as SVG, with where one pact is and where it has been.

States are boxes: the main path runs left to right (the longest chain of single-source
moves from the initial state: side exits such as "withdraw" come from many states), the
other states sit in rows below, near the states they connect to. Moves are arrows with
their event label. The pact's current state is filled dark, states and moves it has taken
are drawn solid and marked with a tick, the rest dashed: shape tells them apart, not
colour alone. Built with ElementTree, so every text is escaped; drawn with presentation
attributes only, so no stylesheet is needed under a strict Content-Security-Policy.
"""

from __future__ import annotations

import math
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass, field

from casework.identity_memo import IdentityMemo
from casework.workflow import WorkflowDefinition, label_in, resolved_targets

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ID_PREFIX = "casework-wf"

BOX_WIDTH = 164
BOX_HEIGHT = 64
COLUMN_GAP = 124
ROW_GAP = 150
MARGIN = 20
STATE_FONT = 13
EVENT_FONT = 11
LINE_HEIGHT = 15
STATE_LINE_CHARS = 19
EVENT_LINE_CHARS = 17
MAX_LINES = 3
ARC_BASE = 34
ARC_STEP = 16
LEGEND_HEIGHT = 70
SEARCH_BUDGET = 50_000  # steps of the main-path search; workflow files are small

INK = "#1a1a1a"
PRIMARY = "#0066cc"
PRIMARY_DARK = "#003366"
TAKEN_FILL = "#e6f0fa"
GREY = "#5c6f82"
WHITE = "#ffffff"


@dataclass(frozen=True)
class DiagramText:
    """What the drawing says in words, in the reader's language (the caller translates)."""

    title: str
    description: str
    current: str = "Current stage"
    visited: str = "Stage already passed"
    not_visited: str = "Stage not reached"
    move_made: str = "Move made"
    move_possible: str = "Possible move"


@dataclass(frozen=True)
class _Edge:
    event: str
    source: str
    target: str
    order: int


@dataclass
class _Place:
    column: int
    row: int

    @property
    def x(self) -> float:
        return MARGIN + self.column * (BOX_WIDTH + COLUMN_GAP)

    def y(self, top: float) -> float:
        return top + self.row * (BOX_HEIGHT + ROW_GAP)


@dataclass
class _Ports:
    """Where arrows meet a box's top and bottom side, spread so they do not overlap."""

    waiting: dict[tuple[str, str], list[tuple[float, int]]] = field(default_factory=dict)
    assigned: dict[tuple[str, str, int], float] = field(default_factory=dict)

    def ask(self, state: str, side: str, other_x: float, edge_order: int) -> None:
        self.waiting.setdefault((state, side), []).append((other_x, edge_order))

    def settle(self, places: dict[str, _Place]) -> None:
        for (state, side), requests in self.waiting.items():
            requests.sort()
            x = places[state].x
            for index, (_, edge_order) in enumerate(requests):
                self.assigned[(state, side, edge_order)] = x + BOX_WIDTH * (index + 1) / (len(requests) + 1)

    def x(self, state: str, side: str, edge_order: int) -> float:
        return self.assigned[(state, side, edge_order)]


def _edges(definition: WorkflowDefinition) -> list[_Edge]:
    edges = []
    for event in definition.events.values():
        for source in event.sources:
            for target in sorted(resolved_targets(event, definition.events)):
                if source != target:
                    edges.append(_Edge(event.name, source, target, len(edges)))
    return edges


def main_path(definition: WorkflowDefinition) -> list[str]:
    """The longest simple chain of single-source moves from the initial state (file order breaks ties)."""
    forward: dict[str, list[str]] = {}
    for event in definition.events.values():
        if len(event.sources) == 1 and not event.returns_to_previous:
            forward.setdefault(event.sources[0], []).append(event.target)
    best = [definition.initial]
    budget = SEARCH_BUDGET

    def walk(path: list[str]) -> None:
        nonlocal best, budget
        budget -= 1
        if len(path) > len(best):
            best = list(path)
        if budget <= 0:
            return
        for target in forward.get(path[-1], []):
            if target not in path:
                path.append(target)
                walk(path)
                path.pop()

    walk([definition.initial])
    return best


def layout(definition: WorkflowDefinition) -> dict[str, _Place]:
    """Column and row of every state: the main path on row 0, the others below their neighbours."""
    path = main_path(definition)
    places = {state: _Place(column, 0) for column, state in enumerate(path)}
    columns = max(len(path), 1)
    neighbours: dict[str, set[str]] = {state: set() for state in definition.states}
    for edge in _edges(definition):
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    file_order = {state: index for index, state in enumerate(definition.states)}
    side = [state for state in definition.states if state not in places]
    # States tied to few main-path states first: they are the ones whose place says most.
    side.sort(key=lambda s: (len(neighbours[s] & set(path)) or columns + 1, file_order[s]))
    taken: set[tuple[int, int]] = set()
    for state in side:
        anchors = [places[n].column for n in neighbours[state] if n in places and places[n].row == 0]
        wanted = round(sum(anchors) / len(anchors)) if anchors else 0
        row = 1
        while all((column, row) in taken for column in range(columns)):
            row += 1
        column = min((c for c in range(columns) if (c, row) not in taken), key=lambda c: (abs(c - wanted), c))
        taken.add((column, row))
        places[state] = _Place(column, row)
    return places


def _clean(text: str) -> str:
    """Text an XML document can hold: no control characters."""
    return "".join(ch for ch in text if ch in "\t\n" or not unicodedata.category(ch).startswith("C"))


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in _clean(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: width - 1] + "…"
    return lines or [""]


def _text(parent: ET.Element, lines: list[str], x: float, y: float, *, size: int, anchor: str = "middle",
          fill: str = INK, weight: str = "normal", halo: bool = False) -> ET.Element:
    """Lines of text; `y` is the baseline of the first line."""
    attributes = {
        "x": f"{x:.1f}", "y": f"{y:.1f}", "font-family": "Titillium Web, Helvetica, Arial, sans-serif",
        "font-size": str(size), "text-anchor": anchor, "fill": fill, "font-weight": weight,
    }
    if halo:
        # A white outline painted under the letters keeps a label readable across lines.
        attributes.update({"stroke": WHITE, "stroke-width": "4", "stroke-linejoin": "round", "paint-order": "stroke"})
    element = ET.SubElement(parent, "text", attributes)
    for index, line in enumerate(lines):
        span = ET.SubElement(element, "tspan", {"x": f"{x:.1f}", "dy": "0" if index == 0 else str(LINE_HEIGHT)})
        # The space keeps words apart when the text is copied or searched; x and dy place the lines.
        span.text = line if index == len(lines) - 1 else line + " "
    return element


def _marker(defs: ET.Element, name: str, colour: str) -> None:
    marker = ET.SubElement(defs, "marker", {
        "id": f"{ID_PREFIX}-{name}", "viewBox": "0 0 10 10", "refX": "9", "refY": "5",
        "markerWidth": "10", "markerHeight": "10", "markerUnits": "userSpaceOnUse", "orient": "auto",
    })
    ET.SubElement(marker, "path", {"d": "M 0 0 L 10 5 L 0 10 z", "fill": colour})


def _line_style(taken: bool) -> dict[str, str]:
    """How an arrow looks: solid and dark for a move made, dashed and grey for the others."""
    if taken:
        return {"stroke": PRIMARY_DARK, "stroke-width": "2.5", "fill": "none",
                "marker-end": f"url(#{ID_PREFIX}-arrow-taken)"}
    return {"stroke": GREY, "stroke-width": "1.5", "stroke-dasharray": "6 4", "fill": "none",
            "marker-end": f"url(#{ID_PREFIX}-arrow)"}


def _box(parent: ET.Element, state: str, x: float, y: float, lines: list[str], style: str) -> None:
    parent = ET.SubElement(parent, "g", {"class": f"state {style}", "data-state": state})
    rect = {"x": f"{x:.1f}", "y": f"{y:.1f}", "width": str(BOX_WIDTH), "height": str(BOX_HEIGHT), "rx": "8"}
    if style == "current":
        rect.update({"fill": PRIMARY, "stroke": PRIMARY_DARK, "stroke-width": "4"})
        colour, weight = WHITE, "bold"
    elif style == "taken":
        rect.update({"fill": TAKEN_FILL, "stroke": PRIMARY, "stroke-width": "2"})
        colour, weight = INK, "normal"
        lines = ["✓ " + lines[0], *lines[1:]]
    else:
        rect.update({"fill": WHITE, "stroke": GREY, "stroke-width": "1.5", "stroke-dasharray": "6 4"})
        colour, weight = INK, "normal"
    ET.SubElement(parent, "rect", rect)
    first = y + BOX_HEIGHT / 2 - (len(lines) - 1) * LINE_HEIGHT / 2 + STATE_FONT / 3
    _text(parent, lines, x + BOX_WIDTH / 2, first, size=STATE_FONT, fill=colour, weight=weight)


# Drawing takes milliseconds and depends only on its inputs, which repeat across pacts and requests.
_DRAWN: IdentityMemo[str] = IdentityMemo()


def workflow_svg(
    definition: WorkflowDefinition,
    *,
    locale: str,
    text: DiagramText,
    current: str | None = None,
    visited: Collection[str] = (),
    moves: Collection[tuple[str, str, str]] = (),
) -> str:
    """The diagram as an <svg> element (no XML declaration, so it can also be inlined in HTML).

    `visited` are states the pact has been in, `moves` the (event, from, to) it has made.
    """
    key = (locale, text, current, frozenset(visited), frozenset(moves))
    return _DRAWN.get(definition, key, lambda: _draw(definition, locale=locale, text=text, current=current,
                                                     visited=visited, moves=moves))


def _draw(
    definition: WorkflowDefinition,
    *,
    locale: str,
    text: DiagramText,
    current: str | None,
    visited: Collection[str],
    moves: Collection[tuple[str, str, str]],
) -> str:
    places = layout(definition)
    edges = _edges(definition)
    columns = max(place.column for place in places.values()) + 1
    rows = max(place.row for place in places.values()) + 1

    def same_row_arc(edge: _Edge) -> bool:
        a, b = places[edge.source], places[edge.target]
        return a.row == b.row and b.column - a.column != 1

    def arc_height(edge: _Edge) -> float:
        return ARC_BASE + ARC_STEP * abs(places[edge.target].column - places[edge.source].column)

    top_arcs = [arc_height(e) for e in edges if same_row_arc(e) and places[e.source].row == 0]
    bottom_arcs = [arc_height(e) for e in edges if same_row_arc(e) and places[e.source].row == rows - 1 and rows > 1]
    label_room = MAX_LINES * LINE_HEIGHT + 6
    top = MARGIN + (max(top_arcs) * 0.75 + label_room if top_arcs else 0)
    bottom_room = max(bottom_arcs) * 0.75 + label_room if bottom_arcs else 0
    width = 2 * MARGIN + columns * BOX_WIDTH + (columns - 1) * COLUMN_GAP
    legend_top = top + rows * BOX_HEIGHT + (rows - 1) * ROW_GAP + bottom_room + MARGIN
    height = legend_top + LEGEND_HEIGHT

    title_id, desc_id = f"{ID_PREFIX}-title", f"{ID_PREFIX}-desc"
    svg = ET.Element("svg", {
        "xmlns": SVG_NAMESPACE, "version": "1.1", "role": "img", "aria-label": _clean(text.title),
        "aria-describedby": desc_id, "width": f"{width:.0f}", "height": f"{height:.0f}",
        "viewBox": f"0 0 {width:.0f} {height:.0f}", "class": "workflow-diagram",
    })
    ET.SubElement(svg, "title", {"id": title_id}).text = _clean(text.title)
    ET.SubElement(svg, "desc", {"id": desc_id}).text = _clean(text.description)
    defs = ET.SubElement(svg, "defs")
    _marker(defs, "arrow-taken", PRIMARY_DARK)
    _marker(defs, "arrow", GREY)
    ET.SubElement(svg, "rect", {"x": "0", "y": "0", "width": f"{width:.0f}", "height": f"{height:.0f}",
                                "fill": WHITE})

    taken_moves = set(moves)
    by_event: dict[str, list[_Edge]] = {}
    for edge in edges:
        by_event.setdefault(edge.event, []).append(edge)

    def centre(state: str) -> tuple[float, float]:
        place = places[state]
        return place.x + BOX_WIDTH / 2, place.y(top) + BOX_HEIGHT / 2

    # An event leaving many states gets one label, on its shortest arrow.
    labelled = {
        event: min(group, key=lambda e: (math.dist(centre(e.source), centre(e.target)), e.order)).order
        for event, group in by_event.items()
    }

    ports = _Ports()
    for edge in edges:
        a, b = places[edge.source], places[edge.target]
        if a.row != b.row:
            upper, lower = (edge.source, edge.target) if a.row < b.row else (edge.target, edge.source)
            ports.ask(upper, "bottom", centre(lower)[0], edge.order)
            ports.ask(lower, "top", centre(upper)[0], edge.order)
        elif same_row_arc(edge):
            side = "top" if a.row == 0 else "bottom"
            ports.ask(edge.source, side, centre(edge.target)[0], edge.order)
            ports.ask(edge.target, side, centre(edge.source)[0], edge.order)
    ports.settle(places)

    arrows = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    labels = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    # Moves not taken first, so the pact's own path is drawn on top.
    for edge in sorted(edges, key=lambda e: ((e.event, e.source, e.target) in taken_moves, e.order)):
        taken = (edge.event, edge.source, edge.target) in taken_moves
        a, b = places[edge.source], places[edge.target]
        ay, by = a.y(top), b.y(top)
        label_lines = _wrap(label_in(definition.events[edge.event].label, locale), EVENT_LINE_CHARS)
        label_height = (len(label_lines) - 1) * LINE_HEIGHT
        colour = PRIMARY_DARK if taken else INK
        arrow = ET.SubElement(arrows, "g", {
            "class": "move taken" if taken else "move", "data-event": edge.event,
            "data-from": edge.source, "data-to": edge.target,
        })
        weight = "bold" if taken else "normal"
        if a.row == b.row and b.column - a.column == 1:
            y = ay + BOX_HEIGHT / 2
            x1, x2 = a.x + BOX_WIDTH, b.x
            ET.SubElement(arrow, "path", {"d": f"M {x1:.1f} {y:.1f} L {x2 - 2:.1f} {y:.1f}", **_line_style(taken)})
            label_at, anchor = ((x1 + x2) / 2, y - 8 - label_height), "middle"
        elif a.row == b.row:
            above = a.row == 0
            side = "top" if above else "bottom"
            x1, x2 = ports.x(edge.source, side, edge.order), ports.x(edge.target, side, edge.order)
            y = ay if above else ay + BOX_HEIGHT
            lift = -arc_height(edge) if above else arc_height(edge)
            ET.SubElement(arrow, "path", {
                "d": f"M {x1:.1f} {y:.1f} C {x1:.1f} {y + lift:.1f} {x2:.1f} {y + lift:.1f} {x2:.1f} {y + (2 if above else -2):.1f}",
                **_line_style(taken),
            })
            apex = y + 0.75 * lift
            label_at = ((x1 + x2) / 2, apex - 6 - label_height if above else apex + 6 + EVENT_FONT)
            anchor = "middle"
        else:
            down = a.row < b.row
            x1 = ports.x(edge.source, "bottom" if down else "top", edge.order)
            x2 = ports.x(edge.target, "top" if down else "bottom", edge.order)
            y1 = ay + BOX_HEIGHT if down else ay
            y2 = by if down else by + BOX_HEIGHT
            y2 += -2 if down else 2
            ET.SubElement(arrow, "path", {"d": f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}", **_line_style(taken)})
            # Downward labels left of the line, upward ones right of it: opposite moves
            # between the same two states stay apart.
            label_at = ((x1 + x2) / 2 + (-6 if down else 6), (y1 + y2) / 2 - label_height / 2 + EVENT_FONT / 3)
            anchor = "end" if down else "start"
        if labelled[edge.event] == edge.order or taken:
            _text(labels, label_lines, *label_at, size=EVENT_FONT, anchor=anchor, fill=colour, weight=weight,
                  halo=True)

    boxes = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    visited_states = set(visited)
    for state, place in places.items():
        style = "current" if state == current else "taken" if state in visited_states else "other"
        _box(boxes, state, place.x, place.y(top), _wrap(label_in(definition.states[state].label, locale), STATE_LINE_CHARS),
             style)

    _legend(svg, legend_top, text)
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)


def _legend(svg: ET.Element, top: float, text: DiagramText) -> None:
    legend = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    x = MARGIN
    sample_width, sample_height = 36, 22
    for style, words in (("current", text.current), ("taken", text.visited), ("other", text.not_visited)):
        rect = {"x": f"{x}", "y": f"{top}", "width": str(sample_width), "height": str(sample_height), "rx": "5"}
        if style == "current":
            rect.update({"fill": PRIMARY, "stroke": PRIMARY_DARK, "stroke-width": "4"})
        elif style == "taken":
            rect.update({"fill": TAKEN_FILL, "stroke": PRIMARY, "stroke-width": "2"})
        else:
            rect.update({"fill": WHITE, "stroke": GREY, "stroke-width": "1.5", "stroke-dasharray": "6 4"})
        ET.SubElement(legend, "rect", rect)
        if style == "taken":
            _text(legend, ["✓"], x + sample_width / 2, top + 16, size=STATE_FONT)
        _text(legend, [_clean(words)], x + sample_width + 8, top + 16, size=STATE_FONT, anchor="start")
        x += sample_width + 8 + len(words) * STATE_FONT * 0.6 + 32
    line_top = top + sample_height + 26
    x = MARGIN
    for taken, words in ((True, text.move_made), (False, text.move_possible)):
        ET.SubElement(legend, "path", {"d": f"M {x} {line_top} L {x + 48} {line_top}", **_line_style(taken)})
        _text(legend, [_clean(words)], x + 58, line_top + 4, size=STATE_FONT, anchor="start")
        x += 58 + len(words) * STATE_FONT * 0.6 + 32
