""""Oggi": what a case manager must do next, read from indexed columns, never row by row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from casework.models import Beneficiary, Pact, TransitionRecord, User
from casework.security import pact_visibility, visible_beneficiaries
from casework.workflow import WorkflowDefinition, WorkflowRegistry

DUE_SOON = timedelta(days=7)


@dataclass(frozen=True)
class DueItem:
    pact: Pact
    state_label: str
    deadline_label: str
    overdue: bool
    days: int  # days overdue (positive) or days left (positive), by `overdue`


@dataclass(frozen=True)
class StageCount:
    workflow: str
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class RecentMove:
    record: TransitionRecord
    event_label: str
    state_label: str


@dataclass(frozen=True)
class Today:
    overdue: list[DueItem]
    due_soon: list[DueItem]
    stage_counts: list[StageCount]
    recent: list[RecentMove]


def todays_work(session: Session, user: User, registry: WorkflowRegistry, *, now: datetime, locale: str) -> Today:
    open_pacts = (
        select(Pact).where(pact_visibility(user), Pact.closed_at.is_(None), Pact.next_deadline_at.is_not(None))
        .options(joinedload(Pact.beneficiary), joinedload(Pact.programme))
    )
    due = session.scalars(
        open_pacts.where(Pact.next_deadline_at <= now + DUE_SOON).order_by(Pact.next_deadline_at).limit(200)
    ).all()
    overdue, due_soon = [], []
    for pact in due:
        late = pact.next_deadline_at < now
        delta = (now - pact.next_deadline_at) if late else (pact.next_deadline_at - now)
        definition = registry.get(pact.workflow_name, pact.workflow_version).definition
        item = DueItem(
            pact=pact, state_label=definition.label_of("state", pact.state, locale),
            deadline_label=definition.label_of("deadline", pact.next_deadline_label, locale), overdue=late,
            days=delta.days,
        )
        (overdue if late else due_soon).append(item)

    counts = session.execute(
        select(Pact.workflow_name, Pact.workflow_version, Pact.state, func.count())
        .where(pact_visibility(user), Pact.closed_at.is_(None))
        .group_by(Pact.workflow_name, Pact.workflow_version, Pact.state)
    ).all()
    stage_counts = [
        StageCount(workflow, state, registry.get(workflow, version).definition.label_of("state", state, locale), count)
        for workflow, version, state, count in sorted(counts)
    ]
    recent = session.scalars(
        select(TransitionRecord).join(Pact, Pact.id == TransitionRecord.pact_id)
        .where(pact_visibility(user)).order_by(TransitionRecord.at.desc(), TransitionRecord.id.desc()).limit(10)
        .options(joinedload(TransitionRecord.pact).joinedload(Pact.beneficiary), joinedload(TransitionRecord.actor))
    ).all()
    moves = [
        RecentMove(
            record=record,
            event_label=_definition(registry, record.pact).label_of("event", record.event, locale),
            state_label=_definition(registry, record.pact).label_of("state", record.to_state, locale),
        )
        for record in recent
    ]
    return Today(overdue=overdue, due_soon=due_soon, stage_counts=stage_counts, recent=moves)


def _definition(registry: WorkflowRegistry, pact: Pact) -> WorkflowDefinition:
    return registry.get(pact.workflow_name, pact.workflow_version).definition


def search_beneficiaries(session: Session, user: User, text: str, *, limit: int = 50) -> list[Beneficiary]:
    """People the user may see whose name or codice fiscale contains `text` (case-insensitive)."""
    words = text.strip().split()
    if not words:
        return []
    query = visible_beneficiaries(user)
    for word in words[:4]:
        pattern = f"%{word.lower()}%"
        query = query.where(or_(
            func.lower(Beneficiary.first_name).like(pattern), func.lower(Beneficiary.last_name).like(pattern),
            func.lower(Beneficiary.codice_fiscale).like(pattern),
        ))
    return list(session.scalars(query.order_by(Beneficiary.last_name, Beneficiary.first_name).limit(limit)))
