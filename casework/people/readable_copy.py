"""The copy of a person's data as a reader reads it (casework.people.subject_access gives the rows
as stored): sections titled in the reader's language, technical columns left out
(casework.people.dossier_labels), codes in words, dates and times in the office's time zone,
staff by name, organisations, services and programmes by name, pacts by programme and number.

Names are read in a fixed number of queries, one per kind of thing named, whatever the history.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Column, Date, DateTime, Table, TypeDecorator, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from casework.errors import UnknownWorkflow
from casework.i18n import Message, gettext
from casework.models import Base
from casework.pacts import item_change
from casework.people.dossier_labels import (
    CODE_LABELS,
    ENUM_LABELS,
    NO,
    PACT_NUMBER,
    PERSON_RECORD,
    READING_ORDER,
    REVISION_NUMBER,
    SECTIONS,
    WORKFLOW_CODES,
    YES,
)
from casework.people.subject_access import Dossier, DossierSection
from casework.workflow import WorkflowDefinition, WorkflowRegistry, label_in

# Tables whose rows are named by a column of their own, read once for all the copy.
NAMED_BY = {"user_account": "full_name", "organisation": "name", "service": "name", "programme": "name",
            "territory": "name"}
# Rows named from the copy itself: a goal or an action by its words, a referral by its service.
ITEM_TABLES = {"goal": "goal", "action": "pact_action"}
# The parts of a signed revision's snapshot (casework.pacts), read as the tables they copy.
REVISION_PARTS = {"goals": "goal", "actions": "pact_action", "commitments": "commitment"}


@dataclass(frozen=True)
class ReadableSection:
    key: str  # the table: the same key as in the JSON copy
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    one_card_per_row: bool

    @property
    def cards(self) -> list[list[tuple[str, str]]]:
        """Each row as (label, value) lines, for the sections read one card per row."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


def readable_sections(
    session: Session, registry: WorkflowRegistry, dossier: Dossier, *, locale: str, zone: ZoneInfo,
) -> list[ReadableSection]:
    """The dossier's sections in the order a reader expects (the person, then the pacts and
    what they hold, then the records' history), each with its rows in words."""
    reader = _Reader(session, registry, dossier, locale, zone)
    order = {table: position for position, table in enumerate(READING_ORDER)}
    ordered = sorted(dossier.sections, key=lambda section: order.get(section.table, len(order)))
    return [reader.section(section) for section in ordered]


class _Reader:
    def __init__(self, session: Session, registry: WorkflowRegistry, dossier: Dossier, locale: str, zone: ZoneInfo):
        self.locale, self.zone = locale, zone
        self.rows = {section.table: _as_dicts(section) for section in dossier.sections}
        self.by_id = {table: {row["id"]: row for row in rows if "id" in row} for table, rows in self.rows.items()}
        self.names = _names(session, dossier)
        self.definitions: dict[int, WorkflowDefinition | None] = {}
        pacts = self.rows.get("pact", [])
        self.only_pact = pacts[0]["id"] if len(pacts) == 1 else None
        for pact in self.rows.get("pact", []):
            try:
                definition = registry.get(pact["workflow_name"], pact["workflow_version"]).definition
            except UnknownWorkflow:
                definition = None
            self.definitions[pact["id"]] = definition

    def find(self, table: str, key: int) -> dict[str, Any] | None:
        return self.by_id.get(table, {}).get(key)

    def text(self, message: Message, **params: object) -> str:
        return gettext(self.locale, message, **params)

    def section(self, section: DossierSection) -> ReadableSection:
        labels = SECTIONS.get(section.table)
        table = Base.metadata.tables[section.table]
        if labels is None:  # a table nobody labelled yet (tests/people/test_dossier_labels.py fails): shown raw
            columns = [column.name for column in table.columns]
            headers = tuple(columns)
            title, cards = section.table, True
        else:
            columns = [name for name in labels.columns if name in table.columns]
            if self.only_pact is not None and all(row.get("pact_id") == self.only_pact
                                                  for row in self.rows[section.table]):
                columns = [name for name in columns if name != "pact_id"]  # one pact: naming it on each row is noise
            headers = tuple(self.text(labels.columns[name]) for name in columns)
            title, cards = self.text(labels.title), labels.one_card_per_row
        rows = tuple(tuple(self.value(table, name, row) for name in columns) for row in self.rows[section.table])
        return ReadableSection(section.table, title, headers, rows, cards)

    def value(self, table: Table, name: str, row: dict[str, Any]) -> str:
        value = row[name]
        if value is None or value == "":
            return "—"
        key = (table.name, name)
        if key in WORKFLOW_CODES:
            return self.workflow_word(WORKFLOW_CODES[key], value, row, table.name)
        if key in CODE_LABELS:
            found = CODE_LABELS[key].get(value)
            return self.text(found) if found is not None else str(value)
        if table.name == "change_record":
            if name == "entity":
                return self.pact(row["entity_id"]) if value == "pact" else self.text(PERSON_RECORD)
            if name == "field":
                return self.changed_field(row["entity"], value)
            if name in ("old_value", "new_value"):
                return self.changed_value(row["entity"], row["field"], value)
        if key == ("document", "size_bytes"):
            return f"{value / 1024:,.0f} KB".replace(",", ".") if value >= 1024 else f"{value} B"
        if key == ("pact", "id"):
            return str(value)
        if key == ("screening", "answers"):
            return self.answers(value, row)
        if key == ("screening", "need_profile"):
            return "\n".join(f"{self.workflow_word('need_area', area, row, table.name)}: {self.plain(score)}"
                             for area, score in value.items())
        if key == ("pact_revision", "content") and isinstance(value, dict):
            return self.revision_content(value, row)
        for foreign in table.columns[name].foreign_keys:
            return self.reference(foreign.column.table.name, value)
        return self.plain(value)

    def plain(self, value: Any) -> str:
        if isinstance(value, bool):
            return self.text(YES if value else NO)
        if isinstance(value, enum.Enum):
            found = ENUM_LABELS.get(type(value), {}).get(value)
            return self.text(found) if found is not None else str(value.value)
        if isinstance(value, datetime):
            return f"{value.astimezone(self.zone):%d/%m/%Y %H:%M}"
        if isinstance(value, date):
            return f"{value:%d/%m/%Y}"
        if isinstance(value, dict):
            return "; ".join(f"{key}: {self.plain(item)}" for key, item in value.items()) or "—"
        if isinstance(value, list):
            return "; ".join(self.plain(item) for item in value) or "—"
        return str(value)

    def reference(self, target: str, key: int) -> str:
        if target in NAMED_BY:
            return self.names.get((target, key), f"{key}")
        if target == "pact":
            return self.pact(key)
        if target == "goal":
            return self.item_words("goal", key)
        if target == "pact_action":
            return self.item_words("pact_action", key)
        if target == "pact_revision":
            revision = self.find("pact_revision", key)
            return self.text(REVISION_NUMBER, number=revision["number"] if revision else key)
        if target == "service_referral":
            referral = self.find("service_referral", key)
            return self.names.get(("service", referral["service_id"]), str(key)) if referral else str(key)
        return str(key)

    def pact(self, pact_id: int) -> str:
        pact = self.find("pact", pact_id)
        programme = self.names.get(("programme", pact["programme_id"]), "") if pact else ""
        return self.text(PACT_NUMBER, programme=programme, number=pact_id).lstrip(", ")

    def item_words(self, table: str, key: int) -> str:
        item = self.find(table, key)
        return item["description"] if item else str(key)

    def workflow_word(self, kind: str, code: str, row: dict[str, Any], table: str) -> str:
        definition = self.definitions.get(row["id"] if table == "pact" else row.get("pact_id"))
        if definition is None:
            return code
        event = row.get("event") if kind == "reason" else None
        return definition.label_of(kind, code, self.locale, event=event)

    def answers(self, answers: dict[str, Any], row: dict[str, Any]) -> str:
        """The screening's answers as "question: answer" lines, in the questionnaire's words."""
        definition = self.definitions.get(row.get("pact_id"))
        questionnaire = definition.questionnaire if definition else None
        questions = {question.id: question for question in questionnaire.questions} if questionnaire else {}
        lines = []
        for question_id, answer in answers.items():
            question = questions.get(question_id)
            if question is None:
                lines.append(f"{question_id}: {self.plain(answer)}")
                continue
            option = next((o for o in question.options if o.value == answer), None)
            words = label_in(option.label, self.locale) if option else self.plain(answer)
            asked = label_in(question.label, self.locale)
            lines.append(f"{asked} {words}" if asked.endswith("?") else f"{asked}: {words}")
        return "\n".join(lines)

    def revision_content(self, content: dict[str, Any], row: dict[str, Any]) -> str:
        """A signed pact's goals, actions and commitments as they were signed, one line each."""
        lines = []
        for part, items in content.items():
            table_name = REVISION_PARTS.get(part)
            if table_name is None or not isinstance(items, list):
                lines.append(f"{part}: {self.plain(items)}")
                continue
            labels, table = SECTIONS[table_name], Base.metadata.tables[table_name]
            lines.append(self.text(labels.title).upper())
            goals = {goal.get("id"): goal.get("description") for goal in content.get("goals", [])}
            for item in items:
                words = []
                for name in labels.columns:
                    value = item.get(name)
                    if name == "pact_id" or value in (None, ""):
                        continue
                    if name == "goal_id":
                        words.append(str(goals.get(value, value)))
                    elif (table_name, name) in WORKFLOW_CODES:
                        words.append(self.workflow_word(WORKFLOW_CODES[table_name, name], value, row, table_name))
                    else:
                        words.append(self.plain(_typed(table, name, value)))
                lines.append("• " + " · ".join(words))
        return "\n".join(lines)

    def changed_value(self, entity: str, field: str, text: str) -> str:
        """A value of the edit history (stored as text: codes, ISO dates, ids) in words."""
        column = _changed_column(entity, field)
        if column is None:
            return text
        for foreign in column.foreign_keys:
            return self.reference(foreign.column.table.name, int(text)) if text.isdigit() else text
        if isinstance(column.type, Boolean):
            return self.text(YES if text == "True" else NO) if text in ("True", "False") else text
        return self.plain(_typed(column.table, column.name, text))

    def changed_field(self, entity: str, field: str) -> str:
        item = item_change(field)
        if item is not None:
            labels = SECTIONS[ITEM_TABLES[item.kind]]
            column = "goal_id" if item.name == "goal" else item.name
            words = labels.columns.get(column)
            return f"{self.text(labels.title)} · {self.text(words) if words else item.name}"
        labels = SECTIONS.get(entity)
        words = labels.columns.get(field) if labels else None
        return self.text(words) if words else field


def _changed_column(entity: str, field: str) -> Column | None:
    """The column a field of the edit history names: "phone" of a person, "goal:3:status"..."""
    item = item_change(field)
    if item is not None:
        table_name, name = ITEM_TABLES[item.kind], "goal_id" if item.name == "goal" else item.name
    else:
        table_name, name = entity, field
    table = Base.metadata.tables.get(table_name)
    return table.columns.get(name) if table is not None else None


def _typed(table: Table, name: str, value: Any) -> Any:
    """A value of a JSON snapshot (codes, ISO dates) as the column itself would give it."""
    column = table.columns.get(name)
    if column is None or not isinstance(value, str):
        return value
    try:
        if isinstance(column.type, SAEnum) and column.type.enum_class is not None:
            return column.type.enum_class(value)
        kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
        if isinstance(kind, DateTime):
            return datetime.fromisoformat(value)
        if isinstance(kind, Date):
            return date.fromisoformat(value)
    except ValueError:
        return value
    return value


def _as_dicts(section: DossierSection) -> list[dict[str, Any]]:
    names = [column.name for column in Base.metadata.tables[section.table].columns]
    return [dict(zip(names, values, strict=True)) for values in section.values]


def _names(session: Session, dossier: Dossier) -> dict[tuple[str, int], str]:
    """(table, id) -> name of every user, organisation, service, programme or comune the copy
    refers to: one query per kind."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for section in dossier.sections:
        table = Base.metadata.tables[section.table]
        for position, column in enumerate(table.columns):
            for foreign in column.foreign_keys:
                if foreign.column.table.name in NAMED_BY:
                    wanted[foreign.column.table.name] |= {row[position] for row in section.values
                                                          if row[position] is not None}
    for change in next((section.values for section in dossier.sections if section.table == "change_record"), []):
        record = dict(zip(Base.metadata.tables["change_record"].columns.keys(), change, strict=True))
        column = _changed_column(record["entity"], record["field"])
        for foreign in column.foreign_keys if column is not None else ():
            if foreign.column.table.name in NAMED_BY:
                wanted[foreign.column.table.name] |= {int(value) for value in (record["old_value"], record["new_value"])
                                                      if value and value.isdigit()}
    names: dict[tuple[str, int], str] = {}
    for target, ids in wanted.items():
        table = Base.metadata.tables[target]
        rows = session.execute(select(table.c.id, table.c[NAMED_BY[target]]).where(table.c.id.in_(ids)))
        names.update({(target, key): name for key, name in rows})
    return names
