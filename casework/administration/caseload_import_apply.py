"""Writing a checked caseload: people through the people domain, pacts entering their stage.

An imported pact enters its stage with a transition record of the event "import" (no workflow
file declares it; the timeline reads "Importato"), dated the day its row gives, and its
deadlines count from that day as if it had entered the stage then: `state_entered_at` and
`opened_at` are the start of that local day. The last contact, when later, is where the
stage's "from last contact" deadlines count from: an anchor move of those rules (the record
people make when a deadline must count from another day), so the next real contact takes over.
The deadline rows follow by the pact table's triggers, at the scheduler's next sweep, like
any change of a pact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import insert
from sqlalchemy.orm import Session

from casework.administration.caseload_import_rows import CREATE, CaseloadPlan, PlannedRow
from casework.clock import Clock
from casework.i18n import N_, gettext
from casework.models import Beneficiary, DeadlineAnchorMove, Pact, Referral, TransitionRecord, User
from casework.people import create_beneficiary
from casework.reminders import refresh_next_deadline
from casework.workflow import IMPORT_EVENT, WorkflowRegistry

BATCH = 500
REFERRAL_REASON = N_("Case brought in from the existing caseload")
LAST_CONTACT_REASON = N_("Last contact given in the imported file")


@dataclass(frozen=True)
class ImportSummary:
    people_created: int
    people_matched: int
    pacts_created: int
    pacts_matched: int


def start_of_day(day: date, clock: Clock) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.zone).astimezone(UTC)


def apply_plan(
    session: Session, registry: WorkflowRegistry, user: User, plan: CaseloadPlan, *, clock: Clock, locale: str = "it",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Write what `plan` says (it has no problems); the caller's transaction makes it all or nothing."""
    people: dict[str, int] = {}
    pending: list[tuple[Pact, PlannedRow]] = []
    for done, row in enumerate(plan.rows, start=1):
        if progress is not None and done % 100 == 0:
            progress(100)
        if row.person == CREATE and row.codice_fiscale not in people:
            people[row.codice_fiscale] = _create_person(session, user, row, clock).id
        if row.pact != CREATE:
            continue
        beneficiary_id = row.beneficiary_id if row.beneficiary_id is not None else people[row.codice_fiscale]
        pending.append((_new_pact(session, registry, row, beneficiary_id, user, clock, locale), row))
        if len(pending) >= BATCH:
            _write_pacts(session, registry, user, pending, clock, locale)
            pending = []
    _write_pacts(session, registry, user, pending, clock, locale)
    if progress is not None:
        progress(len(plan.rows) % 100)
    counts = plan.counts
    return ImportSummary(counts["people_created"], counts["people_matched"], counts["pacts_created"],
                         counts["pacts_matched"])


def _create_person(session: Session, user: User, row: PlannedRow, clock: Clock) -> Beneficiary:
    # Matched by codice fiscale already; a namesake born the same day is a different person.
    return create_beneficiary(session, user, row.details, clock=clock, confirm_duplicates=True)


def _new_pact(
    session: Session, registry: WorkflowRegistry, row: PlannedRow, beneficiary_id: int, user: User, clock: Clock,
    locale: str,
) -> Pact:
    engine = registry.latest(row.workflow_name)
    entered_at = start_of_day(row.entered_on, clock)
    pact = Pact(
        beneficiary_id=beneficiary_id, programme_id=row.programme_id, case_manager_id=row.case_manager_id,
        workflow_name=engine.name, workflow_version=engine.version, state=row.stage, priority=row.priority,
        opened_at=entered_at, state_entered_at=entered_at, updated_at=clock.now,
    )
    # Deadlines from the stage's entry day (the pact has no history yet to look up).
    refresh_next_deadline(session, engine.definition, pact, clock.zone)
    session.add(pact)
    session.add(Referral(
        pact=pact, source=row.referral_source, reason=row.notes or gettext(locale, REFERRAL_REASON),
        referred_on=row.referred_on, recorded_at=clock.now, recorded_by_id=user.id,
    ))
    return pact


def _write_pacts(
    session: Session, registry: WorkflowRegistry, user: User, pending: list[tuple[Pact, PlannedRow]], clock: Clock,
    locale: str,
) -> None:
    if not pending:
        return
    session.flush()
    session.execute(insert(TransitionRecord), [
        {"pact_id": pact.id, "event": IMPORT_EVENT, "from_state": None, "to_state": pact.state, "actor_id": user.id,
         "at": pact.state_entered_at, "comment": row.notes, "reason": None, "pact_version": pact.version}
        for pact, row in pending
    ])
    moved = []
    for pact, row in pending:
        if row.last_contact_on is None or row.last_contact_on <= row.entered_on:
            continue
        definition = registry.get(pact.workflow_name, pact.workflow_version).definition
        rules = [rule for rule in definition.states[pact.state].deadlines if rule.anchor == "last_contact"]
        for rule in rules:
            session.add(DeadlineAnchorMove(
                pact_id=pact.id, rule_id=rule.id, natural_anchor_at=pact.state_entered_at,
                anchor_on=row.last_contact_on, reason=gettext(locale, LAST_CONTACT_REASON), moved_at=clock.now,
                moved_by_id=user.id,
            ))
        if rules:
            moved.append((pact, definition))
    if moved:
        session.flush()
        for pact, definition in moved:
            refresh_next_deadline(session, definition, pact, clock.zone)
        session.flush()
