"""The list of people a user may see: each with the stage of their open pacts and their next
deadline, filtered by text, programme, stage and deadline state, a page at a time.

Five queries whatever the page holds: the count, the page of people, the open pacts of those
people, and the programmes and stages the filters offer, every one starting from the access
scoping (`visible_beneficiaries`, `visible_pacts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, joinedload

from casework.errors import InvalidInput
from casework.models import Beneficiary, Pact, Programme, User
from casework.people.search import matching_people, read_text
from casework.reminders import deadline_state, due_soon_end
from casework.security import visible_beneficiaries, visible_pacts
from casework.workflow import WorkflowRegistry, label_in

DEADLINE_STATES = ("late", "soon")


@dataclass(frozen=True)
class ListFilters:
    text: str = ""
    programme_id: int | None = None
    stage: str = ""  # "<workflow name>:<state>", as `stage_key` writes it
    deadline: str = ""  # one of DEADLINE_STATES, or "" for any

    @property
    def on_pacts(self) -> bool:
        return self.programme_id is not None or bool(self.stage) or self.deadline in DEADLINE_STATES

    @property
    def any(self) -> bool:
        return bool(self.text.strip()) or self.on_pacts


def stage_key(workflow_name: str, state: str) -> str:
    return f"{workflow_name}:{state}"


@dataclass(frozen=True)
class PactLine:
    pact_id: int
    programme: str
    stage: str
    deadline_at: datetime | None
    deadline: str
    deadline_state: str  # "late", "soon", "on_time" or "" without a deadline


@dataclass(frozen=True)
class ListedPerson:
    beneficiary: Beneficiary
    pacts: list[PactLine]  # open pacts the user may see, the nearest deadline first

    @property
    def next_deadline(self) -> PactLine | None:
        return next((line for line in self.pacts if line.deadline_at is not None), None)


@dataclass(frozen=True)
class StageChoice:
    key: str
    label: str


@dataclass(frozen=True)
class StageGroup:
    workflow: str
    stages: list[StageChoice]


@dataclass(frozen=True)
class PeopleList:
    items: list[ListedPerson]
    total: int
    page: int
    per_page: int
    programmes: list[tuple[int, str]]  # what the programme filter offers
    stages: list[StageGroup]  # what the stage filter offers, by workflow

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _deadline_state(deadline_at: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    """The list's two marks, "late" and "soon" (today's deadlines included), as Oggi counts them."""
    state = deadline_state(deadline_at, now, zone)
    return "soon" if state in ("today", "due_soon") else state


def _text_matches(text: str):
    """The people the text names, as the header's search finds them: a surname or first name
    starting with the text or with each of its words (accents, case, spaces and apostrophes
    ignored), a codice fiscale or phone starting with it. None: no text, no filter."""
    if not text.strip():
        return None
    try:
        searched = read_text(text, min_length=1)
    except InvalidInput:  # nothing a name, code or phone could start with ("%_"): nobody
        return false()
    return Beneficiary.id.in_(matching_people(searched))


def _open_pacts(user: User, now: datetime) -> Select[tuple[Pact]]:
    return visible_pacts(user, now).where(Pact.closed_at.is_(None))


def _matching_pacts(user: User, filters: ListFilters, now: datetime, zone: ZoneInfo) -> Select[tuple[Pact]]:
    query = _open_pacts(user, now)
    if filters.programme_id is not None:
        query = query.where(Pact.programme_id == filters.programme_id)
    if filters.stage:
        workflow_name, _, state = filters.stage.partition(":")
        query = query.where(Pact.workflow_name == workflow_name, Pact.state == state)
    if filters.deadline == "late":
        query = query.where(Pact.next_deadline_at < now)
    elif filters.deadline == "soon":
        query = query.where(Pact.next_deadline_at >= now, Pact.next_deadline_at <= due_soon_end(now, zone))
    return query


def list_people(
    session: Session, registry: WorkflowRegistry, user: User, filters: ListFilters, *, now: datetime, zone: ZoneInfo,
    locale: str, page: int = 1, per_page: int = 25,
) -> PeopleList:
    """The page of people `user` may see that the filters keep, by surname. With a programme,
    stage or deadline filter, a person is kept when one of their open pacts matches it."""
    if filters.on_pacts:
        # The people of the visible pacts that match: seeing a pact is seeing its person (see
        # casework.security.access), and one scoping clause keeps the statement to one territory CTE.
        query = select(Beneficiary).where(Beneficiary.id.in_(
            _matching_pacts(user, filters, now, zone).with_only_columns(Pact.beneficiary_id)))
    else:
        query = visible_beneficiaries(user, now)
    if (matches := _text_matches(filters.text)) is not None:
        query = query.where(matches)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    people = session.scalars(
        query.options(joinedload(Beneficiary.comune))
        .order_by(Beneficiary.last_name, Beneficiary.first_name, Beneficiary.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    lines: dict[int, list[PactLine]] = {person.id: [] for person in people}
    if people:
        pacts = session.scalars(
            _open_pacts(user, now).where(Pact.beneficiary_id.in_(list(lines)))
            .options(joinedload(Pact.programme))
            .order_by(Pact.next_deadline_at.is_(None), Pact.next_deadline_at, Pact.id)
        ).all()
        for pact in pacts:
            definition = registry.get(pact.workflow_name, pact.workflow_version).definition
            lines[pact.beneficiary_id].append(PactLine(
                pact_id=pact.id, programme=pact.programme.name,
                stage=definition.label_of("state", pact.state, locale), deadline_at=pact.next_deadline_at,
                deadline=definition.label_of("deadline", pact.next_deadline_label, locale)
                if pact.next_deadline_at else "",
                deadline_state=_deadline_state(pact.next_deadline_at, now, zone),
            ))
    return PeopleList(
        items=[ListedPerson(person, lines[person.id]) for person in people], total=total, page=page,
        per_page=per_page, programmes=_programme_choices(session, user, now),
        stages=_stage_choices(session, registry, user, now, locale),
    )


def _programme_choices(session: Session, user: User, now: datetime) -> list[tuple[int, str]]:
    """The programmes of the user's open pacts: the programme filter keeps a person by an open
    pact (as the stage filter does), so a programme of closed pacts only would list nobody."""
    rows = session.execute(
        _open_pacts(user, now).join(Programme, Programme.id == Pact.programme_id)
        .with_only_columns(Programme.id, Programme.name).distinct().order_by(Programme.name, Programme.id)
    ).all()
    return [(row.id, row.name) for row in rows]


def _stage_choices(session: Session, registry: WorkflowRegistry, user: User, now: datetime,
                   locale: str) -> list[StageGroup]:
    """The stages the user's open pacts are in, by workflow, in the workflow's own order: two
    workflows may both have a "Segnalazione", and the group says whose is whose."""
    rows = session.execute(
        _open_pacts(user, now).with_only_columns(Pact.workflow_name, Pact.workflow_version, Pact.state).distinct()
    ).all()
    in_use: dict[str, set[str]] = {}
    newest: dict[str, int] = {}
    for row in rows:
        in_use.setdefault(row.workflow_name, set()).add(row.state)
        newest[row.workflow_name] = max(newest.get(row.workflow_name, 0), row.workflow_version)
    groups = []
    for workflow_name, states in in_use.items():
        definition = registry.get(workflow_name, newest[workflow_name]).definition
        ordered = [state for state in definition.states if state in states] + sorted(states - set(definition.states))
        groups.append(StageGroup(label_in(definition.label, locale), [
            StageChoice(stage_key(workflow_name, state), definition.label_of("state", state, locale))
            for state in ordered
        ]))
    return sorted(groups, key=lambda group: group.workflow)
