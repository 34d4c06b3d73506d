"""The caseload overview is kept between requests: after every kind of change it must equal a
fresh count, and time passing a deadline or the end of the day must show without any change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from casework.models import (
    Beneficiary,
    ContactChannel,
    FollowUpContact,
    Pact,
    Programme,
    User,
    current_data_version,
)
from casework.pacts import operations as ops
from casework.supervision.caseload import (
    DEFAULT_WEIGHTS,
    _count_overview,
    _read_choices,
    caseload_choices,
    caseload_overview,
)
from casework.supervision.reassignment import reassign_pacts
from tests.conftest import ZONE
from tests.supervision.test_caseload import EVERYTHING, NOW, ROME, by_name, caseloads, rome  # noqa: F401


def _both(session_factory, registry, supervisor_id, now=NOW):
    """(the overview as a page gets it, a recount) in a fresh session, like a new request."""
    with session_factory() as session:
        supervisor = session.get(User, supervisor_id)
        kept = caseload_overview(session, registry, supervisor, EVERYTHING, now=now, zone=ROME, locale="en")
        fresh = _count_overview(session, registry, supervisor, EVERYTHING, now=now, zone=ROME, locale="en",
                                weights=DEFAULT_WEIGHTS)
        # The filters' choices are kept too (who holds open pacts): always as read afresh.
        assert caseload_choices(session, registry, supervisor, locale="en") == _read_choices(
            session, registry, supervisor, locale="en")
    return kept, fresh


def _giulia(overview):
    return by_name(overview)["Giulia"].counts


def test_the_kept_overview_follows_every_kind_of_change(session_factory, session, registry, world, caseloads):  # noqa: F811 (the fixture imported above)
    supervisor_id, giulia_id, marco_id = world.supervisor.id, world.manager.id, world.colleague.id
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and _giulia(kept).open_pacts == 4
    again, _ = _both(session_factory, registry, supervisor_id)
    assert again is kept  # nothing changed: the same figures, not counted again

    def change(action) -> None:
        with session_factory() as other:
            action(other)
            other.commit()

    # A pact opened.
    change(lambda s: ops.open_pact(
        s, registry, beneficiary=s.get(Beneficiary, world.beneficiary.id), programme=s.get(Programme, world.programme.id),
        case_manager=s.get(User, giulia_id), actor=s.get(User, giulia_id), clock=ops.Clock(rome(2026, 3, 10), ZONE)))
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and _giulia(kept).open_pacts == 5

    # A move to another stage.
    co_design = caseloads.pacts["co_design"].id
    change(lambda s: setattr(s.get(Pact, co_design), "state", "activation"))
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and dict(zip([c.state for c in kept.stages], _giulia(kept).by_stage))["activation"] == 1

    # A contact recorded: the follow-up pact is no longer without contact.
    flagged_before = _giulia(kept).flagged
    follow_up = caseloads.pacts["follow_up"].id
    change(lambda s: s.add(FollowUpContact(pact_id=follow_up, contact_at=rome(2026, 3, 10),
                                           channel=ContactChannel.PHONE)))
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and _giulia(kept).flagged == flagged_before - 1

    # A reassignment to Marco.
    def reassign(s):
        pact = s.get(Pact, follow_up)
        reassign_pacts(s, registry, s.get(User, supervisor_id), {pact.id: pact.version}, marco_id,
                       "Ferie lunghe", now=NOW, zone=ROME)
    change(reassign)
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and by_name(kept)["Marco"].counts.open_pacts == 2

    # A closure.
    referral = caseloads.pacts["referral"].id
    change(lambda s: setattr(s.get(Pact, referral), "closed_at", rome(2026, 3, 10, 12)))
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and _giulia(kept).overdue == 0

    # A bulk statement (as imports and sweeps write): deadlines moved to yesterday.
    change(lambda s: s.execute(update(Pact).where(Pact.case_manager_id == giulia_id, Pact.closed_at.is_(None))
                               .values(next_deadline_at=rome(2026, 3, 10, 9))))
    kept, fresh = _both(session_factory, registry, supervisor_id)
    assert kept == fresh and _giulia(kept).overdue == _giulia(kept).open_pacts


def test_time_passing_a_deadline_or_midnight_shows_without_any_change(session_factory, registry, world, caseloads):  # noqa: F811 (the fixture imported above)
    supervisor_id = world.supervisor.id
    kept, _ = _both(session_factory, registry, supervisor_id)
    assert _giulia(kept).overdue == 1
    # Friday 13 March 18:00 passes: the follow-up pact falls overdue.
    later, fresh = _both(session_factory, registry, supervisor_id, now=rome(2026, 3, 13, 18, 1))
    assert later == fresh and _giulia(later).overdue == 2
    # Earlier than what was kept: never the later figures.
    earlier, fresh = _both(session_factory, registry, supervisor_id, now=NOW - timedelta(hours=1))
    assert earlier == fresh and _giulia(earlier).overdue == 1
    # Next day, nothing due in between: days without contact move on.
    kept, _ = _both(session_factory, registry, supervisor_id, now=rome(2026, 3, 11, 23))
    tomorrow, fresh = _both(session_factory, registry, supervisor_id, now=rome(2026, 3, 12, 9))
    assert tomorrow == fresh
    assert tomorrow.totals.longest_without_contact == kept.totals.longest_without_contact + 1


def test_own_uncommitted_changes_are_counted_not_the_kept_figures(session, registry, world, caseloads):  # noqa: F811 (the fixture imported above)
    before = caseload_overview(session, registry, world.supervisor, EVERYTHING, now=NOW, zone=ROME, locale="en")
    session.get(Pact, caseloads.pacts["co_design"].id).closed_at = rome(2026, 3, 10)
    session.flush()
    after = caseload_overview(session, registry, world.supervisor, EVERYTHING, now=NOW, zone=ROME, locale="en")
    assert _giulia(after).open_pacts == _giulia(before).open_pacts - 1
    assert current_data_version(session) is not None
