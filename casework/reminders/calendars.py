"""Each comune's working calendar (its patron saint's day and closure days), for its pacts' deadlines.

The pact's comune is its beneficiary's comune or, for a person without one, the programme's
territory. All comuni's own holidays are read in one small query, once per session (a web
request, a sweep), and kept in `session.info`: a move of a pact costs nothing more, and no
query at all once read. The copy is dropped when the session flushes a change to a territory
or a closure day, and on rollback, so an edit is seen at once by the session that made it.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import Date, SmallInteger, and_, cast, event, insert, null, or_, select, union_all
from sqlalchemy.orm import Session

from casework.models import Beneficiary, ClosureDay, DeadlineRefresh, Pact, Programme, Territory
from casework.reminders.workdays import NATIONAL, WorkingCalendar

_KEY = "casework.working_calendars"

_OWN_HOLIDAYS = union_all(
    select(Territory.id, Territory.patron_month, Territory.patron_day, cast(null(), Date))
    .where(Territory.patron_month.is_not(None), Territory.patron_day.is_not(None)),
    select(ClosureDay.territory_id, cast(null(), SmallInteger), cast(null(), SmallInteger), ClosureDay.day),
)


def working_calendars(session: Session) -> dict[int, WorkingCalendar]:
    """{territory id: its calendar} for every comune with holidays of its own."""
    found = session.info.get(_KEY)
    if found is None:
        patrons: dict[int, tuple[int, int]] = {}
        closures: dict[int, list] = {}
        with session.no_autoflush:
            for territory_id, month, day, closed_on in session.connection().execute(_OWN_HOLIDAYS):
                if closed_on is None:
                    patrons[territory_id] = (month, day)
                else:
                    closures.setdefault(territory_id, []).append(closed_on)
        found = {
            territory_id: WorkingCalendar(closures.get(territory_id, ()), patrons.get(territory_id))
            for territory_id in patrons.keys() | closures.keys()
        }
        session.info[_KEY] = found
    return found


def territory_calendar(session: Session, territory_id: int | None) -> WorkingCalendar:
    if territory_id is None:
        return NATIONAL
    calendars = working_calendars(session)
    return calendars.get(territory_id, NATIONAL) if calendars else NATIONAL


def pact_calendar(session: Session, pact: Pact | None) -> WorkingCalendar:
    """The working calendar of the pact's comune (national holidays only where it has none)."""
    calendars = working_calendars(session)
    if not calendars or pact is None:
        return NATIONAL
    # Through the relationships: once loaded, the pact holds its beneficiary, so the next move of
    # the same pact in this session asks nothing more.
    with session.no_autoflush:
        beneficiary = pact.beneficiary
        territory_id = None
        if beneficiary is not None:
            territory_id = beneficiary.comune_id
            if territory_id is None and beneficiary.comune is not None:
                territory_id = beneficiary.comune.id
        if territory_id is None and pact.programme is not None:
            territory_id = pact.programme.territory_id or (pact.programme.territory.id if pact.programme.territory
                                                           else None)
    return calendars.get(territory_id, NATIONAL) if territory_id is not None else NATIONAL


def pact_calendar_by_id(session: Session, pact_id: int | None) -> WorkingCalendar:
    if pact_id is None or not working_calendars(session):
        return NATIONAL
    with session.no_autoflush:
        return pact_calendar(session, session.get(Pact, pact_id))


def queue_comune_pacts(session: Session, territory_id: int) -> int:
    """Queue the open pacts that count working days with this territory's calendar for a refresh
    of their deadline rows (the next sweep recomputes them); returns how many were queued."""
    pact_ids = select(Pact.id).join(Beneficiary, Beneficiary.id == Pact.beneficiary_id).join(
        Programme, Programme.id == Pact.programme_id,
    ).where(Pact.closed_at.is_(None), or_(
        Beneficiary.comune_id == territory_id,
        and_(Beneficiary.comune_id.is_(None), Programme.territory_id == territory_id),
    ))
    result = session.execute(insert(DeadlineRefresh).from_select(["pact_id"], pact_ids))
    return max(result.rowcount or 0, 0)


def forget_working_calendars(session: Session) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context) -> None:
    if _KEY not in session.info:
        return
    # Before the flush's own bookkeeping: new, dirty and deleted still list what was written.
    if any(isinstance(item, (Territory, ClosureDay)) for item in chain(session.new, session.dirty, session.deleted)):
        forget_working_calendars(session)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    forget_working_calendars(session)
