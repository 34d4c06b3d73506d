"""Who may see which people and pacts: the one place that knows.

Every query for beneficiaries or pacts that serves a person starts from `visible_pacts` or
`visible_beneficiaries`; views never filter by role or territory themselves.

- A case manager sees the pacts they manage or sit on the équipe of, and the people of
  those pacts.
- Whoever registered a person sees them while the person has no pact at all; once any pact
  exists (open or closed), who sees the person follows the pacts alone, so a registrar whose
  pact went to a colleague loses the record with it.
- A supervisor sees every pact of their territory and the territories below it, except
  restricted cases (violence, court orders), which only the people assigned see.
- A case manager covering an absent colleague (AbsenceCover) also sees, while the cover lasts,
  the pacts the absent colleague manages or sits on the équipe of, restricted ones included
  (because the absent colleague was assigned), and their people. Covers end by themselves:
  the scoping compares the cover's instants with `now` (the real time unless given).
- An administrator manages accounts, and sees no case data.
- Programmes and case managers a supervisor oversees are those of their territory subtree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType

from casework.models import (
    AbsenceCover,
    Beneficiary,
    Pact,
    PactMember,
    Programme,
    Role,
    ServiceReferral,
    Territory,
    User,
)


def territory_and_below(territory_id: int, *, name: str = "tree") -> Select[tuple[int]]:
    """Ids of a territory and every territory below it (recursive, any depth).

    `name` names the CTE: one statement that needs two subtrees must give them two names.
    """
    tree = select(Territory.id).where(Territory.id == territory_id).cte(name, recursive=True)
    tree = tree.union_all(select(Territory.id).where(Territory.parent_id == tree.c.id))
    return select(tree.c.id)


def territory_subtree(user: User) -> Select[tuple[int]]:
    """Ids of the user's territory and every territory below it."""
    return territory_and_below(user.territory_id)


def pact_assignment(user: User):
    """The WHERE condition selecting the pacts `user` manages or sits on the équipe of.

    Whatever their role: the pacts a person works on themselves (their calendar, a restricted
    case a supervisor was put on)."""
    # Correlated explicitly: nested inside the supervisor's EXISTS over programme, automatic
    # correlation would miss the outer pact and ask "is the user on ANY pact's équipe".
    is_member = exists().where(PactMember.pact_id == Pact.id, PactMember.user_id == user.id).correlate(Pact)
    return or_(Pact.case_manager_id == user.id, is_member)


def cover_active(now: datetime | None = None):
    """The WHERE condition selecting the AbsenceCover rows in force at `now`."""
    now = now or datetime.now(UTC)
    return and_(
        AbsenceCover.starts_at <= now, AbsenceCover.ends_at > now,
        or_(AbsenceCover.ended_at.is_(None), AbsenceCover.ended_at > now),
    )


def pact_covered_by(user: User, now: datetime | None = None):
    """The WHERE condition selecting the pacts `user` sees as cover for an absent colleague:
    those the absent colleague manages or sits on the équipe of, while the cover is in force."""
    # Correlated explicitly, like pact_assignment: the équipe test names the outer pact and
    # the cover of the enclosing EXISTS.
    absent_is_member = exists().where(
        PactMember.pact_id == Pact.id, PactMember.user_id == AbsenceCover.absent_user_id
    ).correlate(Pact, AbsenceCover)
    return exists().where(
        AbsenceCover.covering_user_id == user.id, cover_active(now),
        or_(Pact.case_manager_id == AbsenceCover.absent_user_id, absent_is_member),
    ).correlate(Pact)


class _AmongIds(ColumnElement[bool]):
    """`column IN (ids)`; on PostgreSQL `column = ANY(ARRAY(ids))`.

    Under an OR, PostgreSQL answers `IN (subquery)` by reading the whole table and testing each
    row against the subquery's hashed result; `= ANY(ARRAY(subquery))` is computed once before
    the query and answered from the column's index (a BitmapOr with the other terms), and for
    one given row it is a lookup in a short array. SQLite plans the IN form that way already.
    """

    inherit_cache = True
    # Not Boolean: SQLite would get "<test> = 1", which no index answers.
    type = NullType()
    _traverse_internals: ClassVar = [("column", InternalTraversal.dp_clauseelement),
                                     ("ids", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[int], ids: Select[tuple[int]] | CompoundSelect):
        self.column = column
        self.ids = ids


@compiles(_AmongIds)
def _among_ids(element: _AmongIds, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(_AmongIds, "postgresql")
def _among_ids_postgresql(element: _AmongIds, compiler: Any, **kw: Any) -> str:
    # A scalar subquery renders in parentheses, as ARRAY wants its query.
    ids = compiler.process(element.ids.scalar_subquery(), **kw)
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{ids})"


# Made once: a new alias per query costs ~8 ms of Python (its columns are adapted anew).
_MEMBER = aliased(PactMember, name="own_member")
_COVERED = aliased(Pact, name="covered_pact")
_COVERED_MEMBER = aliased(PactMember, name="covered_member")


def case_manager_pacts(user: User, now: datetime | None = None):
    """The WHERE condition selecting the pacts a case manager sees: those they manage or sit
    on the équipe of, and those of the colleagues they cover at `now` (the same pacts as
    `pact_assignment` or `pact_covered_by`).

    Written as an indexed test on pact.case_manager_id OR'd with the ids of the other pacts,
    read from the indexes on pact_member.user_id and absence_cover.covering_user_id: both
    databases then start from the person's own few pacts (SQLite's multi-index OR,
    PostgreSQL's BitmapOr, see `_AmongIds`), where the OR of correlated EXISTS tests would be
    checked on every pact of the office (a scan that grows with the whole caseload). For one
    given pact the test stays a few lookups."""
    member, covered, covered_member = _MEMBER, _COVERED, _COVERED_MEMBER
    other_ids = union(
        select(member.pact_id).where(member.user_id == user.id),
        select(covered.id).join(AbsenceCover, AbsenceCover.absent_user_id == covered.case_manager_id)
        .where(AbsenceCover.covering_user_id == user.id, cover_active(now)),
        select(covered_member.pact_id).join(AbsenceCover, AbsenceCover.absent_user_id == covered_member.user_id)
        .where(AbsenceCover.covering_user_id == user.id, cover_active(now)),
    )
    return or_(Pact.case_manager_id == user.id, _AmongIds(Pact.id, other_ids))


def pact_visibility(user: User, now: datetime | None = None):
    """The WHERE condition selecting the pacts `user` may see (at `now`: covers end by themselves)."""
    if not user.active or user.role == Role.ADMIN:
        return literal(False)
    if user.role == Role.CASE_MANAGER:
        return case_manager_pacts(user, now)
    # One subtree for both tests: two would be two CTEs of the same name, which cannot compile.
    subtree = territory_subtree(user)
    # The person's comune, read by primary key for the pact at hand: PostgreSQL would turn an
    # EXISTS here into a hash of every beneficiary of the territory, built on each query.
    lives_in_territory = func.coalesce(
        select(Beneficiary.comune_id).where(Beneficiary.id == Pact.beneficiary_id).correlate(Pact).scalar_subquery(),
        0,
    ).in_(subtree)
    in_territory = exists().where(
        Programme.id == Pact.programme_id,
        or_(Programme.territory_id.in_(subtree), lives_in_territory),
        or_(Programme.restricted.is_(False), pact_assignment(user)),
    ).correlate(Pact)
    return in_territory if user.role == Role.SUPERVISOR else literal(False)


def pact_counting(user: User, now: datetime | None = None):
    """The WHERE condition selecting the pacts `user` may count in figures: those they may see
    and, for a supervisor, the restricted cases of their territory too. Figures over a restricted
    case the reader is not assigned to are anonymous counts with small cells withheld
    (`counts_unassigned_restricted`); never a list, a name or a drill-down."""
    if user.role != Role.SUPERVISOR or not user.active:
        return pact_visibility(user, now)
    subtree = territory_subtree(user)
    lives_in_territory = func.coalesce(
        select(Beneficiary.comune_id).where(Beneficiary.id == Pact.beneficiary_id).correlate(Pact).scalar_subquery(),
        0,
    ).in_(subtree)
    return exists().where(
        Programme.id == Pact.programme_id, or_(Programme.territory_id.in_(subtree), lives_in_territory),
    ).correlate(Pact)


def counts_unassigned_restricted(session: Session, user: User, programme_id: int | None = None) -> bool:
    """Whether `pact_counting` reaches, for `user`, restricted cases they are not assigned to (in
    one programme, or in any): their figures must then withhold small counts."""
    if user.role != Role.SUPERVISOR or not user.active:
        return False
    query = select(true()).select_from(Pact).join(Programme, Programme.id == Pact.programme_id).where(
        Programme.restricted.is_(True), pact_counting(user), ~pact_assignment(user))
    if programme_id is not None:
        query = query.where(Pact.programme_id == programme_id)
    return session.scalar(query.limit(1)) is not None


def visible_pacts(user: User, now: datetime | None = None) -> Select[tuple[Pact]]:
    return select(Pact).where(pact_visibility(user, now))


def visible_service_referrals(user: User, now: datetime | None = None) -> Select[tuple[ServiceReferral]]:
    """The referrals to services of the pacts `user` may see (a service's page lists only these)."""
    # Not correlated: the caller may join Pact itself (to show the person) without the pact
    # test silently reading the caller's pact instead of its own.
    visible = select(Pact.id).where(pact_visibility(user, now)).correlate(None)
    return select(ServiceReferral).where(ServiceReferral.pact_id.in_(visible))


def visible_beneficiaries(user: User, now: datetime | None = None) -> Select[tuple[Beneficiary]]:
    """The people of the pacts `user` may see, and those they registered who have no pact yet."""
    if not user.active or user.role == Role.ADMIN:
        return select(Beneficiary).where(literal(False))
    has_visible_pact = exists().where(Pact.beneficiary_id == Beneficiary.id, pact_visibility(user, now))
    has_any_pact = exists().where(Pact.beneficiary_id == Beneficiary.id)
    registered_awaiting_pact = and_(Beneficiary.created_by_id == user.id, ~has_any_pact)
    return select(Beneficiary).where(or_(has_visible_pact, registered_awaiting_pact))


def can_see_pact(session: Session, user: User, pact_id: int, now: datetime | None = None) -> bool:
    return session.scalar(select(true()).where(Pact.id == pact_id, pact_visibility(user, now))) is not None


def can_see_beneficiary(session: Session, user: User, beneficiary_id: int, now: datetime | None = None) -> bool:
    query = visible_beneficiaries(user, now).where(Beneficiary.id == beneficiary_id).with_only_columns(Beneficiary.id)
    return session.scalar(query) is not None


def get_visible_pact(
    session: Session, user: User, pact_id: int, now: datetime | None = None, *, options: tuple[Any, ...] = ()
) -> Pact | None:
    """The pact if the user may see it, else None (the caller answers 404, not 403: no leaks).

    `options` are loader options, so a page loads what it shows with the pact itself."""
    return session.scalars(visible_pacts(user, now).where(Pact.id == pact_id).options(*options)).one_or_none()


def get_visible_beneficiary(
    session: Session, user: User, beneficiary_id: int, now: datetime | None = None
) -> Beneficiary | None:
    return session.scalars(visible_beneficiaries(user, now).where(Beneficiary.id == beneficiary_id)).one_or_none()


def visible_programmes(user: User) -> Select[tuple[Programme]]:
    """Programmes a supervisor oversees (and may edit): those of their territory subtree."""
    if not user.active or user.role != Role.SUPERVISOR:
        return select(Programme).where(literal(False))
    return select(Programme).where(Programme.territory_id.in_(territory_subtree(user)))


def visible_case_managers(user: User) -> Select[tuple[User]]:
    """Active case managers of a supervisor's territory subtree: whose caseloads they review
    and to whom they may hand a pact."""
    if not user.active or user.role != Role.SUPERVISOR:
        return select(User).where(literal(False))
    return select(User).where(
        User.role == Role.CASE_MANAGER, User.active.is_(True), User.territory_id.in_(territory_subtree(user))
    )


def covered_colleagues(session: Session, user: User, *, subject_type: str, subject_id: int | None,
                       now: datetime | None = None) -> list[str]:
    """Usernames of the absent colleagues through whose cover alone `user` sees this pact or
    person at `now` (empty when they see it in their own right): for the access log."""
    if subject_id is None or not user.active or user.role != Role.CASE_MANAGER:
        return []
    if subject_type == "pact":
        own = select(true()).where(Pact.id == subject_id, pact_assignment(user))
        covered = select(Pact.id).where(Pact.id == subject_id)
    elif subject_type == "beneficiary":
        own = select(true()).where(Pact.beneficiary_id == subject_id, pact_assignment(user))
        covered = select(Pact.id).where(Pact.beneficiary_id == subject_id)
    else:
        return []
    if session.scalar(own.limit(1)) is not None:
        return []
    absent_is_member = exists().where(
        PactMember.pact_id == Pact.id, PactMember.user_id == AbsenceCover.absent_user_id
    ).correlate(Pact, AbsenceCover)
    return list(session.scalars(
        select(User.username).join(AbsenceCover, AbsenceCover.absent_user_id == User.id)
        .where(AbsenceCover.covering_user_id == user.id, cover_active(now), exists(
            covered.where(or_(Pact.case_manager_id == AbsenceCover.absent_user_id, absent_is_member))
            .correlate(AbsenceCover)
        )).distinct().order_by(User.username)
    ))


def manageable_users(user: User) -> Select[tuple[User]]:
    """Accounts `user` may list and change: an administrator every account; a supervisor the
    case managers of their territory subtree, active or not (to reactivate them); nobody else."""
    if not user.active or user.role not in (Role.ADMIN, Role.SUPERVISOR):
        return select(User).where(literal(False))
    if user.role == Role.ADMIN:
        return select(User)
    return select(User).where(User.role == Role.CASE_MANAGER, User.territory_id.in_(territory_subtree(user)))


def may_read_access_histories(user: User) -> bool:
    """Whether `user`'s role reads people's access histories at all: administrators (for any
    person, without the case data) and case managers (for the people they see). Supervisors do
    not: who in the office opened a record is for the person's case manager and the
    administrators answering a data-protection request, not for line management."""
    return user.active and user.role in (Role.ADMIN, Role.CASE_MANAGER)


def can_read_access_history(session: Session, user: User, beneficiary_id: int, now: datetime | None = None) -> bool:
    """Whether `user` may read who accessed this person's data: an administrator for any
    registered person, a case manager for a person they see (`visible_beneficiaries`)."""
    if not may_read_access_histories(user):
        return False
    if user.role == Role.ADMIN:
        return session.scalar(select(Beneficiary.id).where(Beneficiary.id == beneficiary_id)) is not None
    return can_see_beneficiary(session, user, beneficiary_id, now)


def access_history_pacts(user: User, beneficiary_id: int, now: datetime | None = None) -> Select[tuple[int]]:
    """Ids of the person's pacts whose accesses `user` reads in the person's access history:
    all of them for an administrator; for a case manager those they see, so the history never
    reveals a restricted pact of the person they are not assigned to."""
    pacts = select(Pact.id).where(Pact.beneficiary_id == beneficiary_id)
    return pacts if user.role == Role.ADMIN else pacts.where(pact_visibility(user, now))
