"""Read workflow files (YAML) and validate them, reporting every problem with file and line."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from casework.config import LOCALES
from casework.workflow.definition import (
    DEADLINE_UNITS,
    FIXED_ANCHORS,
    MILESTONES,
    PREVIOUS_STATE,
    PRIORITIES,
    QUESTION_TYPES,
    REFERRAL_ANCHORS,
    REFERRAL_RULE_SEPARATOR,
    DeadlineRule,
    EventDef,
    Labels,
    Option,
    PriorityBand,
    Question,
    Questionnaire,
    Section,
    StateDef,
    WorkflowDefinition,
)
from casework.workflow.guards import GUARDS, REASON_GUARD, deadline_conditions


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class WorkflowFileError(Exception):
    """One or more workflow files are invalid; `problems` lists each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_CONTROL = re.compile("[\x00-\x1f\x7f]")


class _Map(dict):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int
    key_lines: dict[Any, int]


class _Seq(list):
    line: int
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - explicit  # keys from `<<: *anchor` come first and may be overridden
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, (list, dict)):
            loader.bad_keys.append(line)
            continue
        if key in result.key_lines and index >= merged and result.key_lines[key] not in loader.merged_lines:
            loader.duplicates.append((line, key, result.key_lines[key]))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
        if index < merged:
            loader.merged_lines.add(line)
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier()


class _Reader:
    """Walks one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    @staticmethod
    def line_of(mapping: Any, key: Any = None) -> int:
        if isinstance(mapping, _Map):
            return mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line
        return getattr(mapping, "line", 1)

    def mapping(self, value: Any, line: int, what: str) -> _Map | None:
        if isinstance(value, _Map):
            return value
        self.problem(line, f"{what} must be a mapping (key: value lines), got {_kind(value)}")
        return None

    def known_keys(self, mapping: _Map, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(
                    self.line_of(mapping, key),
                    f"unknown key {key!r} in {what} (expected one of: {', '.join(sorted(allowed))})",
                )

    def required(self, mapping: _Map, key: str, what: str) -> Any:
        if key not in mapping or mapping[key] is None:
            self.problem(mapping.line, f"{what} has no {key!r}")
            return None
        return mapping[key]

    def labels(self, mapping: _Map, key: str, what: str) -> Labels:
        value = mapping.get(key)
        line = self.line_of(mapping, key)
        if value is None:
            self.problem(mapping.line, f"{what} has no {key!r} (labels in {' and '.join(LOCALES)})")
            return {locale: "" for locale in LOCALES}
        if isinstance(value, str):
            self.problem(line, f"{what}: {key!r} must give a text per language ({', '.join(LOCALES)})")
            return {locale: value for locale in LOCALES}
        labels = self.mapping(value, line, f"{what} {key}")
        if labels is None:
            return {locale: "" for locale in LOCALES}
        for language in labels:
            if language not in LOCALES:
                self.problem(line, f"{what}: {language!r} is not a language ({', '.join(LOCALES)}); quote texts holding ',' or '?'")
        for locale in LOCALES:
            if not isinstance(labels.get(locale), str) or not labels[locale].strip():
                self.problem(line, f"{what}: {key!r} has no {locale!r} text")
        for language, label in labels.items():
            # A label ends up in e-mail subjects, calendar entries and CSV cells: a newline
            # there breaks a header line (the message could not even be built).
            found = _CONTROL.search(str(label))
            if found:
                self.problem(self.line_of(labels, language),
                             f"{what}: {key!r} {language!r} holds a control character ({found.group()!r}); "
                             "a label is one line of plain text")
        return {str(k): str(v) for k, v in labels.items()}

    def integer(self, mapping: _Map, key: str, what: str, *, minimum: int, default: int | None = None) -> int | None:
        if key not in mapping:
            if default is None:
                self.problem(mapping.line, f"{what} has no {key!r}")
            return default
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problem(self.line_of(mapping, key), f"{what}: {key!r} must be a whole number >= {minimum}, got {value!r}")
            return default
        return value

    def names(self, value: Any, line: int, what: str) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        self.problem(line, f"{what} must be a name or a list of names, got {_kind(value)}")
        return []


def load_workflow_file(path: Path) -> WorkflowDefinition:
    """Load and validate one file; raise WorkflowFileError listing every problem found."""
    reader = _Reader(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorkflowFileError([Problem(path, 1, f"cannot read file: {error.strerror}")]) from None
    loader = _LineLoader(text)
    loader.duplicates = []
    loader.bad_keys = []
    loader.merged_lines = set()
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise WorkflowFileError([Problem(path, line, f"not valid YAML: {getattr(error, 'problem', error)}")]) from None
    finally:
        loader.dispose()
    for line, key, first_line in loader.duplicates:
        reader.problem(line, f"duplicate key {key!r} (first defined at line {first_line})")
    for line in loader.bad_keys:
        reader.problem(line, "a key must be a name, not a list or mapping")
    root = reader.mapping(data, 1, "the file")
    if root is None:
        raise WorkflowFileError(reader.problems)
    definition = _read_definition(reader, root)
    if reader.problems:
        raise WorkflowFileError(reader.problems)
    assert definition is not None
    return definition


def _read_definition(r: _Reader, root: _Map) -> WorkflowDefinition | None:
    r.known_keys(
        root, {"name", "version", "label", "initial", "states", "events", "questionnaire", "outcomes", "milestones",
               "service_referrals"},
        "the workflow",
    )
    name = r.required(root, "name", "the workflow")
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        r.problem(r.line_of(root, "name"), f"name must be a lower-case identifier, got {name!r}")
    version = r.integer(root, "version", "the workflow", minimum=1)
    label = r.labels(root, "label", "the workflow")

    states = _read_states(r, root)
    events = _read_events(r, root, states)
    initial = r.required(root, "initial", "the workflow")
    if initial is not None and not isinstance(initial, str):
        r.problem(r.line_of(root, "initial"), f"initial must be a state name, got {_kind(initial)}")
        initial = None
    elif initial is not None and initial not in states:
        r.problem(r.line_of(root, "initial"), f"initial state {initial!r} is not a declared state")
    questionnaire = _read_questionnaire(r, root["questionnaire"], r.line_of(root, "questionnaire")) if "questionnaire" in root else None
    outcomes = _read_codes(r, root, "outcomes", "outcome")
    milestones = _read_milestones(r, root, states)
    referral_deadlines = _read_service_referrals(r, root)

    if initial is not None and initial in states and events is not None:
        _check_graph(r, root, initial, states, events)
    if r.problems:
        return None
    return WorkflowDefinition(
        name=name, version=version, label=label, initial=initial, states=states, events=events,
        questionnaire=questionnaire, outcomes=outcomes, milestones=milestones,
        referral_deadlines=referral_deadlines, source=r.path,
    )


def _read_states(r: _Reader, root: _Map) -> dict[str, StateDef]:
    raw = r.mapping(r.required(root, "states", "the workflow") or _Map(), r.line_of(root, "states"), "states")
    states: dict[str, StateDef] = {}
    if raw is None:
        return states
    for name, body in raw.items():
        line = r.line_of(raw, name)
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("@"):
            r.problem(line, f"state name {name!r} must be an identifier")
            continue
        spec = r.mapping(body, line, f"state {name!r}")
        if spec is None:
            continue
        r.known_keys(spec, {"label", "final", "deadlines"}, f"state {name!r}")
        final = spec.get("final", False)
        if not isinstance(final, bool):
            r.problem(r.line_of(spec, "final"), f"state {name!r}: final must be true or false")
            final = False
        deadlines = _read_deadlines(r, spec, name, set(raw.keys()))
        if final and deadlines:
            r.problem(r.line_of(spec, "deadlines"), f"bad deadline: final state {name!r} cannot have deadlines")
        states[name] = StateDef(name=name, label=r.labels(spec, "label", f"state {name!r}"), final=final, deadlines=tuple(deadlines))
    if not states:
        r.problem(r.line_of(root, "states"), "the workflow declares no states")
    return states


def _read_deadlines(r: _Reader, spec: _Map, state: str, state_names: set[Any]) -> list[DeadlineRule]:
    if "deadlines" not in spec:
        return []

    def anchor_ok(anchor: Any) -> bool:
        return isinstance(anchor, str) and (
            anchor in FIXED_ANCHORS or (anchor.startswith("entered:") and anchor.split(":", 1)[1] in state_names))

    return _read_rules(r, spec, f"state {state!r}", anchor_ok,
                       f"one of {', '.join(FIXED_ANCHORS)} or entered:<declared state>")


def _read_service_referrals(r: _Reader, root: _Map) -> tuple[DeadlineRule, ...]:
    """The `service_referrals` block: the deadlines every service referral of a pact follows."""
    if "service_referrals" not in root:
        return ()
    block = r.mapping(root["service_referrals"], r.line_of(root, "service_referrals"), "service_referrals")
    if block is None:
        return ()
    r.known_keys(block, {"deadlines"}, "service_referrals")
    if "deadlines" not in block:
        r.problem(r.line_of(root, "service_referrals"), "bad deadline: service_referrals has no 'deadlines'")
        return ()
    return tuple(_read_rules(r, block, "service_referrals", lambda anchor: anchor in REFERRAL_ANCHORS,
                             f"one of {', '.join(REFERRAL_ANCHORS)}", referral=True))


def _read_rules(r: _Reader, spec: _Map, where: str, anchor_ok: Callable[[Any], bool], anchors: str, *,
                referral: bool = False) -> list[DeadlineRule]:
    """The deadline rules listed under `spec`'s "deadlines": a state's, or the service referrals'.

    A referral's rule has no `every` nor `met_when` (its step being over ends it) and names its
    `from`; one counted from the agreed start may be due that very day (`in: 0`).
    """
    raw = spec["deadlines"]
    if not isinstance(raw, _Seq):
        r.problem(r.line_of(spec, "deadlines"), f"bad deadline: {where} deadlines must be a list")
        return []
    keys = {"id", "label", "in", "unit", "from", "remind_before_days", "escalate_after_days",
            "escalate_again_after_days"}
    if not referral:
        keys |= {"every", "met_when"}
    rules: list[DeadlineRule] = []
    seen: set[str] = set()
    for item, line in zip(raw, raw.item_lines, strict=True):
        what = f"bad deadline in {where}"
        body = r.mapping(item, line, what)
        if body is None:
            continue
        r.known_keys(body, keys, what)
        rule_id = body.get("id")
        if not isinstance(rule_id, str) or not rule_id.isidentifier():
            r.problem(line, f"{what}: 'id' must be an identifier")
            continue
        if rule_id in seen:
            r.problem(line, f"{what}: duplicate deadline id {rule_id!r}")
        seen.add(rule_id)
        if referral and len(rule_id) > REFERRAL_RULE_ID_LENGTH:
            r.problem(line, f"{what}: id {rule_id!r} is longer than {REFERRAL_RULE_ID_LENGTH} characters")
        if referral and "from" not in body:
            r.problem(line, f"{what} {rule_id!r} has no 'from' ({anchors})")
        anchor = body.get("from", "entered")
        anchor_valid = anchor_ok(anchor)
        if not anchor_valid and "from" in body:
            r.problem(r.line_of(body, "from"), f"{what} {rule_id!r}: 'from' must be {anchors}, got {anchor!r}")
        amount = r.integer(body, "in", f"{what} {rule_id!r}", minimum=0 if anchor == "agreed_start" else 1)
        unit = body.get("unit", "days")
        if unit not in DEADLINE_UNITS:
            r.problem(r.line_of(body, "unit"), f"{what} {rule_id!r}: unit must be one of {', '.join(DEADLINE_UNITS)}, got {unit!r}")
        remind = r.integer(body, "remind_before_days", f"{what} {rule_id!r}", minimum=0, default=0)
        escalate = r.integer(body, "escalate_after_days", f"{what} {rule_id!r}", minimum=0, default=-1)
        escalate = None if escalate in (None, -1) else escalate
        escalate_again = r.integer(body, "escalate_again_after_days", f"{what} {rule_id!r}", minimum=1, default=-1)
        escalate_again = None if escalate_again in (None, -1) else escalate_again
        if escalate_again is not None and (escalate is None or escalate_again <= escalate):
            r.problem(
                r.line_of(body, "escalate_again_after_days"),
                f"{what} {rule_id!r}: 'escalate_again_after_days' needs 'escalate_after_days' and must be larger than it",
            )
        every = r.integer(body, "every", f"{what} {rule_id!r}", minimum=1, default=-1)
        every = None if every in (None, -1) else every
        met_when = body.get("met_when")
        if met_when is not None and met_when not in deadline_conditions():
            r.problem(
                r.line_of(body, "met_when"),
                f"{what} {rule_id!r}: 'met_when' must be one of {', '.join(deadline_conditions())}, got {met_when!r}",
            )
            met_when = None
        rules.append(
            DeadlineRule(
                id=rule_id, label=r.labels(body, "label", f"{what} {rule_id!r}"),
                amount=amount if amount is not None else 1, unit=unit, anchor=anchor, remind_before_days=remind or 0,
                escalate_after_days=escalate, escalate_again_after_days=escalate_again, every=every,
                met_when=met_when,
            )
        )
    return rules


def _read_events(r: _Reader, root: _Map, states: dict[str, StateDef]) -> dict[str, EventDef]:
    raw = r.mapping(r.required(root, "events", "the workflow") or _Map(), r.line_of(root, "events"), "events")
    events: dict[str, EventDef] = {}
    if raw is None:
        return events
    for name, body in raw.items():
        line = r.line_of(raw, name)
        if not isinstance(name, str) or not name.isidentifier():
            r.problem(line, f"event name {name!r} must be an identifier")
            continue
        spec = r.mapping(body, line, f"event {name!r}")
        if spec is None:
            continue
        r.known_keys(spec, {"label", "from", "to", "guards", "reasons"}, f"event {name!r}")
        raw_sources = r.required(spec, "from", f"event {name!r}")
        sources = [] if raw_sources is None else r.names(raw_sources, r.line_of(spec, "from"), f"event {name!r} 'from'")
        for source in sources:
            if source not in states:
                r.problem(r.line_of(spec, "from"), f"event {name!r}: unknown state {source!r} in 'from'")
        if len(set(sources)) != len(sources):
            r.problem(r.line_of(spec, "from"), f"event {name!r}: a state is listed twice in 'from'")
        target = r.required(spec, "to", f"event {name!r}")
        if target is not None and not isinstance(target, str):
            r.problem(r.line_of(spec, "to"), f"event {name!r}: 'to' must be one state name, got {_kind(target)}")
            target = None
        elif target is not None and target != PREVIOUS_STATE and target not in states:
            r.problem(r.line_of(spec, "to"), f"event {name!r}: unknown state {target!r} in 'to'")
        guards = r.names(spec.get("guards", []), r.line_of(spec, "guards"), f"event {name!r} 'guards'")
        for guard_name in guards:
            if guard_name not in GUARDS:
                r.problem(
                    r.line_of(spec, "guards"),
                    f"event {name!r}: unknown guard {guard_name!r} (known: {', '.join(sorted(GUARDS))})",
                )
        reasons = _read_codes(r, spec, "reasons", f"event {name!r} reason")
        if REASON_GUARD in guards and not reasons:
            r.problem(r.line_of(spec, "guards"), f"event {name!r}: guard {REASON_GUARD!r} needs a 'reasons' list to choose from")
        events[name] = EventDef(
            name=name, label=r.labels(spec, "label", f"event {name!r}"), sources=tuple(sources),
            target=str(target), guards=tuple(guards), reasons=reasons,
        )
    if not events:
        r.problem(r.line_of(root, "events"), "the workflow declares no events")
    return events


def _previous_candidates(event: EventDef, events: dict[str, EventDef]) -> set[str]:
    """States a `to: @previous` event may return to: those with a move into its sources."""
    return {
        source
        for other in events.values()
        if other.target in event.sources and other.target != PREVIOUS_STATE
        for source in other.sources
        if source not in event.sources
    }


def resolved_targets(event: EventDef, events: dict[str, EventDef]) -> set[str]:
    if event.returns_to_previous:
        return _previous_candidates(event, events)
    return {event.target}


def _check_graph(r: _Reader, root: _Map, initial: str, states: dict[str, StateDef], events: dict[str, EventDef]) -> None:
    states_line = r.line_of(root, "states")
    raw_states = root.get("states")
    for event in events.values():
        if event.returns_to_previous and not _previous_candidates(event, events):
            r.problem(r.line_of(root.get("events"), event.name), f"event {event.name!r}: no state to return to with @previous")
    reachable = {initial}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for event in events.values():
            if state in event.sources:
                for target in resolved_targets(event, events):
                    if target in states and target not in reachable:
                        reachable.add(target)
                        queue.append(target)
    for name, state in states.items():
        line = r.line_of(raw_states, name) if isinstance(raw_states, _Map) else states_line
        if name not in reachable:
            r.problem(line, f"unreachable state {name!r}: no sequence of events leads to it from {initial!r}")
        if not state.final and not any(name in event.sources for event in events.values()):
            r.problem(line, f"dead end: state {name!r} has no way out and is not marked final")


# A referral deadline's id on a pact ("<rule id>@<referral id>") is stored in 80 characters: the
# rule's id keeps room for the separator and a referral id of up to 19 digits.
REFERRAL_RULE_ID_LENGTH = 80 - len(REFERRAL_RULE_SEPARATOR) - 19

# Outcome and reason codes are stored in columns of this width.
CODE_MAX_LENGTH = 60


def _read_codes(r: _Reader, parent: _Map, key: str, what: str) -> dict[str, Labels]:
    """A mapping of identifier codes to labels: the outcomes of a workflow, the reasons of an event."""
    if key not in parent:
        return {}
    raw = r.mapping(parent[key], r.line_of(parent, key), key)
    if raw is None:
        return {}
    codes: dict[str, Labels] = {}
    for code, body in raw.items():
        line = r.line_of(raw, code)
        if not isinstance(code, str) or not code.isidentifier():
            r.problem(line, f"{what} code {code!r} must be an identifier")
            continue
        if len(code) > CODE_MAX_LENGTH:
            r.problem(line, f"{what} code {code!r} is longer than {CODE_MAX_LENGTH} characters")
            continue
        spec = r.mapping(body, line, f"{what} {code!r}")
        if spec is not None:
            r.known_keys(spec, {"label"}, f"{what} {code!r}")
            codes[code] = r.labels(spec, "label", f"{what} {code!r}")
    return codes


def _read_milestones(r: _Reader, root: _Map, states: dict[str, StateDef]) -> dict[str, str]:
    if "milestones" not in root:
        return {}
    raw = r.mapping(root["milestones"], r.line_of(root, "milestones"), "milestones")
    if raw is None:
        return {}
    milestones: dict[str, str] = {}
    for name, state in raw.items():
        line = r.line_of(raw, name)
        if name not in MILESTONES:
            r.problem(line, f"unknown milestone {name!r} (known: {', '.join(MILESTONES)})")
        elif not isinstance(state, str) or state not in states:
            r.problem(line, f"milestone {name!r}: {state!r} is not a declared state")
        else:
            milestones[name] = state
    return milestones


def _read_questionnaire(r: _Reader, value: Any, line: int) -> Questionnaire | None:
    root = r.mapping(value, line, "questionnaire")
    if root is None:
        return None
    r.known_keys(root, {"need_areas", "sections", "priority"}, "questionnaire")
    areas_raw = r.mapping(r.required(root, "need_areas", "the questionnaire") or _Map(), r.line_of(root, "need_areas"), "need_areas")
    need_areas: dict[str, Labels] = {}
    for area, body in (areas_raw or {}).items():
        spec = r.mapping(body, r.line_of(areas_raw, area), f"need area {area!r}")
        if spec is not None:
            r.known_keys(spec, {"label"}, f"need area {area!r}")
            need_areas[str(area)] = r.labels(spec, "label", f"need area {area!r}")

    sections: list[Section] = []
    seen_questions: dict[str, int] = {}
    raw_sections = r.required(root, "sections", "the questionnaire")
    if not isinstance(raw_sections, _Seq) or not raw_sections:
        if raw_sections is not None:
            r.problem(r.line_of(root, "sections"), "questionnaire sections must be a list of at least one section")
        raw_sections = _Seq()
        raw_sections.item_lines = []
    for section_raw, section_line in zip(raw_sections, raw_sections.item_lines, strict=True):
        spec = r.mapping(section_raw, section_line, "a questionnaire section")
        if spec is None:
            continue
        r.known_keys(spec, {"id", "label", "questions"}, "a questionnaire section")
        section_id = spec.get("id")
        if not _is_name(section_id):
            r.problem(section_line, f"a questionnaire section needs an 'id' that is an identifier, got {_kind(section_id)}")
            section_id = ""
        questions: list[Question] = []
        raw_questions = spec.get("questions")
        if not isinstance(raw_questions, _Seq) or not raw_questions:
            r.problem(spec.line, f"section {section_id!r} has no questions")
            raw_questions = _Seq()
            raw_questions.item_lines = []
        for question_raw, question_line in zip(raw_questions, raw_questions.item_lines, strict=True):
            question = _read_question(r, question_raw, question_line, need_areas, seen_questions)
            if question is not None:
                questions.append(question)
        sections.append(Section(id=section_id, label=r.labels(spec, "label", f"section {section_id!r}"), questions=tuple(questions)))

    bands: list[PriorityBand] = []
    raw_bands = r.required(root, "priority", "the questionnaire")
    if not isinstance(raw_bands, _Seq) or not raw_bands:
        if raw_bands is not None:
            r.problem(r.line_of(root, "priority"), "priority must be a list of at least one {min_score, priority}")
        raw_bands = _Seq()
        raw_bands.item_lines = []
    for band_raw, band_line in zip(raw_bands, raw_bands.item_lines, strict=True):
        spec = r.mapping(band_raw, band_line, "a priority band")
        if spec is None:
            continue
        r.known_keys(spec, {"min_score", "priority"}, "a priority band")
        minimum = r.integer(spec, "min_score", "a priority band", minimum=0)
        priority = spec.get("priority")
        if priority not in PRIORITIES:
            r.problem(band_line, f"priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")
        elif minimum is not None:
            bands.append(PriorityBand(min_score=minimum, priority=priority))
    if bands and min(b.min_score for b in bands) != 0:
        r.problem(r.line_of(root, "priority"), "priority bands must start at min_score 0 so every score has a priority")
    return Questionnaire(
        need_areas=need_areas, sections=tuple(sections),
        priority_bands=tuple(sorted(bands, key=lambda b: b.min_score, reverse=True)),
    )


def _read_question(
    r: _Reader, raw: Any, line: int, need_areas: dict[str, Labels], seen: dict[str, int]
) -> Question | None:
    spec = r.mapping(raw, line, "a question")
    if spec is None:
        return None
    r.known_keys(spec, {"id", "label", "type", "need_area", "required", "options", "score_if_true", "min", "max"}, "a question")
    question_id = spec.get("id")
    if not isinstance(question_id, str) or not question_id.isidentifier():
        r.problem(line, f"question id must be an identifier, got {question_id!r}")
        return None
    what = f"question {question_id!r}"
    if question_id in seen:
        r.problem(line, f"duplicate {what} (first defined at line {seen[question_id]})")
    seen[question_id] = line
    kind = spec.get("type")
    if kind not in QUESTION_TYPES:
        r.problem(r.line_of(spec, "type"), f"{what}: type must be one of {', '.join(QUESTION_TYPES)}, got {kind!r}")
    area = spec.get("need_area")
    if not area:
        r.problem(line, f"{what} has no need area")
    elif not isinstance(area, str):
        r.problem(r.line_of(spec, "need_area"), f"{what}: need_area must be one name, got {_kind(area)}")
        area = None
    elif area not in need_areas:
        r.problem(r.line_of(spec, "need_area"), f"{what}: need area {area!r} is not declared in need_areas")
    options: list[Option] = []
    if kind == "choice":
        raw_options = spec.get("options")
        if not isinstance(raw_options, _Seq) or len(raw_options) < 2:
            r.problem(line, f"{what}: a choice needs at least two options")
        else:
            values: set[str] = set()
            for option_raw, option_line in zip(raw_options, raw_options.item_lines, strict=True):
                option = r.mapping(option_raw, option_line, f"{what} option")
                if option is None:
                    continue
                r.known_keys(option, {"value", "label", "score"}, f"{what} option")
                raw_value = option.get("value")
                if not isinstance(raw_value, (str, int)) or isinstance(raw_value, bool):
                    hint = " (quote it: YAML reads yes/no/on/off as true/false)" if isinstance(raw_value, bool) else ""
                    r.problem(r.line_of(option, "value"), f"{what}: option value must be a text, got {_kind(raw_value)}{hint}")
                    continue
                value = str(raw_value)
                if not value or value in values:
                    r.problem(option_line, f"{what}: option values must be present and distinct")
                values.add(value)
                score = r.integer(option, "score", f"{what} option {value!r}", minimum=0, default=0)
                options.append(Option(value=value, label=r.labels(option, "label", f"{what} option {value!r}"), score=score or 0))
    minimum = maximum = 0
    if kind == "scale":
        minimum = r.integer(spec, "min", what, minimum=0) or 0
        maximum = r.integer(spec, "max", what, minimum=0) or 0
        if maximum <= minimum:
            r.problem(line, f"{what}: max must be greater than min")
    required = spec.get("required", True)
    if not isinstance(required, bool):
        r.problem(r.line_of(spec, "required"), f"{what}: required must be true or false")
        required = True
    return Question(
        id=question_id, label=r.labels(spec, "label", what), type=str(kind), need_area=str(area or ""),
        required=required, options=tuple(options),
        score_if_true=r.integer(spec, "score_if_true", what, minimum=0, default=0) or 0,
        minimum=minimum, maximum=maximum,
    )


def workflow_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in {".yaml", ".yml"})


def check_directory(directory: Path) -> tuple[list[WorkflowDefinition], list[Problem]]:
    """Load every workflow file; return the valid definitions and every problem found."""
    definitions: list[WorkflowDefinition] = []
    problems: list[Problem] = []
    files = workflow_files(directory)
    if not files:
        problems.append(Problem(directory, 0, "no workflow files (*.yaml) found"))
    seen: dict[tuple[str, int], Path] = {}
    for path in files:
        try:
            definition = load_workflow_file(path)
        except WorkflowFileError as error:
            problems.extend(error.problems)
            continue
        key = (definition.name, definition.version)
        if key in seen:
            problems.append(Problem(path, 1, f"workflow {definition.name!r} version {definition.version} is also defined in {seen[key]}"))
            continue
        seen[key] = path
        definitions.append(definition)
    return definitions, problems
