"""A registration that matches someone the case manager may not see goes to a supervisor.

The duplicate check searches everyone (a person followed by another team is still the same
person), but what it finds among the people a case manager may not see must confirm nothing:
not that the person exists, not which team follows them, and above all not that a restricted
programme (violence, court orders) does. The case manager is told only that the registration
needs a supervisor; the supervisors over the case manager's territory get a notice with what
was typed, and sort it out with the teams.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.config import LOCALES
from casework.i18n import N_, in_every_locale
from casework.models import Role, Territory, User
from casework.people.beneficiaries import PersonDetails, compact_codice_fiscale
from casework.reminders import notify

_MAX_LEVELS = 16  # deeper than any real tree of comuni, unioni, ambiti and consortia

NOTICE = N_("{manager} tried to register {name} (codice fiscale {code}, born on {birth}): the details match a "
            "person they may not see. Check with the teams before the person is registered again.")


def supervisors_over(session: Session, territory_id: int | None) -> list[User]:
    """The active supervisors of the territory and of every territory above it."""
    chain: list[int] = []
    current = territory_id
    while current is not None and current not in chain and len(chain) < _MAX_LEVELS:
        chain.append(current)
        current = session.scalar(select(Territory.parent_id).where(Territory.id == current))
    if not chain:
        return []
    return list(session.scalars(select(User).where(
        User.role == Role.SUPERVISOR, User.active.is_(True), User.territory_id.in_(chain)).order_by(User.id)))


def ask_supervisors_about_registration(
    session: Session, user: User, details: PersonDetails, *, now: datetime
) -> int:
    """Tell the supervisors over `user`'s territory that a registration needs them; returns
    how many were told."""
    birth = details.birth_date.strftime("%d/%m/%Y") if details.birth_date else "—"
    message = in_every_locale(
        LOCALES, NOTICE, manager=user.full_name, name=f"{details.first_name} {details.last_name}".strip(),
        code=compact_codice_fiscale(details.codice_fiscale or "") or "—", birth=birth,
    )
    supervisors = supervisors_over(session, user.territory_id)
    for supervisor in supervisors:
        notify(session, supervisor, message, now=now)
    return len(supervisors)
