"""Beneficiaries: registering a person, correcting their record, their household, opening a pact.

Like casework.pacts.operations, each operation takes the caller's session and never commits. Input is
checked here, not in a form, so the web, the CLI and an import all refuse the same mistakes;
refusals are InvalidInput({field: code}) for the caller to translate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from codicefiscale import codicefiscale as codicefiscale_decoder
from sqlalchemy import or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale as codicefiscale_checker

from casework.clock import Clock

# BeneficiaryConflict stays importable from here, where callers of these operations look for it.
from casework.errors import BeneficiaryConflict, CaseworkError, InvalidInput  # noqa: F401
from casework.models import (
    Beneficiary,
    ChangeRecord,
    DataSharingConsent,
    Gender,
    HouseholdMember,
    Pact,
    Programme,
    Relation,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import open_pact
from casework.security import (
    can_see_beneficiary,
    get_visible_beneficiary,
    log_access,
    record_changes,
    territory_subtree,
    visible_pacts,
)
from casework.services import is_language
from casework.versioning import check_version, touch
from casework.workflow import WorkflowRegistry, label_in

ENTITY = "beneficiary"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
CODICE_FISCALE_LENGTH = 16
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ./()-]+$")
_PHONE_DIGITS = (6, 15)  # shortest Italian landline to the ITU maximum
MAX_LENGTHS = {
    "first_name": 100, "last_name": 100, "birth_place": 120, "citizenship": 80, "address": 200,
    "phone": 40, "email": 254,
}
_MANAGING_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR)


class NotAllowed(CaseworkError):
    """The user's role may not register or change people (administrators see no case data)."""


@dataclass(frozen=True)
class PossibleDuplicate:
    """Someone already registered who may be the same person.

    `beneficiary_id` and `full_name` are given only when the user may see that person:
    the others are reported as existing, nothing more.
    """

    reason: str  # "codice_fiscale" or "name_and_birth_date"
    beneficiary_id: int | None = None
    full_name: str | None = None


class PossibleDuplicates(CaseworkError):
    """Registering would likely record a person twice. `blocking` when the codice fiscale is
    taken (it is unique); otherwise the caller may confirm it is a different person."""

    def __init__(self, duplicates: list[PossibleDuplicate]):
        self.duplicates = duplicates
        super().__init__(", ".join(duplicate.reason for duplicate in duplicates))

    @property
    def blocking(self) -> bool:
        return any(duplicate.reason == "codice_fiscale" for duplicate in self.duplicates)


@dataclass(frozen=True)
class PersonDetails:
    """What a case manager records about a person, as typed (it is cleaned and checked here)."""

    first_name: str
    last_name: str
    gender: Gender
    codice_fiscale: str = ""
    birth_date: date | None = None
    birth_place: str = ""
    migrant_background: bool = False
    citizenship: str = ""
    comune_id: int | None = None
    address: str = ""
    phone: str = ""
    email: str = ""
    preferred_language: str = ""  # ISO 639-1, one of casework.services.LANGUAGES


@dataclass(frozen=True)
class HouseholdDetails:
    first_name: str
    relation: Relation
    last_name: str = ""
    birth_date: date | None = None


PERSON_FIELDS = tuple(field.name for field in fields(PersonDetails))


def may_manage_people(user: User) -> bool:
    return user.active and user.role in _MANAGING_ROLES


def _require_manager(user: User) -> None:
    if not may_manage_people(user):
        raise NotAllowed(f"{user.role.value} may not register or change beneficiaries")


def _require_visible(session: Session, user: User, beneficiary: Beneficiary) -> None:
    _require_manager(user)
    if not can_see_beneficiary(session, user, beneficiary.id):
        raise NotAllowed(f"user {user.id} may not see beneficiary {beneficiary.id}")


def _local_today(clock: Clock) -> date:
    return clock.now.astimezone(clock.zone).date()


# --- checks -------------------------------------------------------------------------------

def compact_codice_fiscale(text: str) -> str:
    return re.sub(r"[\s.-]", "", text or "").upper()


def _decoded_birth_and_gender(code: str) -> tuple[date, str]:
    try:
        decoded = codicefiscale_decoder.decode(code)
        return decoded["birthdate"].date(), decoded["gender"]
    except ValueError:
        # A valid code whose birthplace the library's list does not know yet (a new comune).
        return codicefiscale_checker.get_birth_date(code), codicefiscale_checker.get_gender(code)


def codice_fiscale_problem(code: str, birth_date: date | None, gender: Gender | None) -> str | None:
    """The error code for a codice fiscale, or None if it is valid and matches the person."""
    if len(code) != CODICE_FISCALE_LENGTH:
        return "invalid_length"
    try:
        codicefiscale_checker.validate(code)
    except stdnum_errors.InvalidChecksum:
        return "invalid_checksum"
    except stdnum_errors.ValidationError:
        return "invalid_format"
    encoded_birth, encoded_gender = _decoded_birth_and_gender(code)
    # The code holds two digits of the year: 1920 and 2020 look the same.
    if birth_date is not None and (
        (encoded_birth.day, encoded_birth.month, encoded_birth.year % 100)
        != (birth_date.day, birth_date.month, birth_date.year % 100)
    ):
        return "birth_date_mismatch"
    expected_gender = {Gender.FEMALE: "F", Gender.MALE: "M"}.get(gender) if gender else None
    if expected_gender is not None and encoded_gender != expected_gender:
        return "gender_mismatch"
    return None


def _birth_date_problem(birth_date: date | None, today: date) -> str | None:
    if birth_date is None:
        return None
    if birth_date > today:
        return "in_future"
    if birth_date < EARLIEST_BIRTH_DATE:
        return "before_1900"
    return None


def _phone_problem(phone: str) -> str | None:
    if not phone:
        return None
    digits = sum(character.isdigit() for character in phone)
    if not _PHONE.match(phone) or not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        return "invalid_phone"
    return None


def _cleaned_person(
    session: Session, details: PersonDetails, today: date, *, user: User | None = None,
    kept_comune_id: int | None = None,
) -> dict[str, Any]:
    """The values to store, or InvalidInput naming every field that is wrong at once.

    With `user`, the comune must be one of their territory's (`kept_comune_id`, the one the
    record already has, stays allowed: a person may live where the user does not work)."""
    values: dict[str, Any] = {
        name: (value.strip() if isinstance(value, str) else value)
        for name, value in ((name, getattr(details, name)) for name in PERSON_FIELDS)
    }
    values["codice_fiscale"] = compact_codice_fiscale(details.codice_fiscale) or None
    errors: dict[str, str] = {}
    for name in ("first_name", "last_name"):
        if not values[name]:
            errors[name] = "required"
    for name, limit in MAX_LENGTHS.items():
        if name not in errors and len(values[name]) > limit:
            errors[name] = "too_long"
    if not isinstance(values["gender"], Gender):
        errors["gender"] = "required"
    if problem := _birth_date_problem(values["birth_date"], today):
        errors["birth_date"] = problem
    if values["codice_fiscale"] and (
        problem := codice_fiscale_problem(
            values["codice_fiscale"], None if "birth_date" in errors else values["birth_date"], values["gender"]
        )
    ):
        errors["codice_fiscale"] = problem
    if values["email"] and "email" not in errors and not _EMAIL.match(values["email"]):
        errors["email"] = "invalid_email"
    if "phone" not in errors and (problem := _phone_problem(values["phone"])):
        errors["phone"] = problem
    if values["preferred_language"] and not is_language(values["preferred_language"]):
        errors["preferred_language"] = "unknown_language"
    if values["comune_id"] is not None:
        kind = session.scalar(select(Territory.kind).where(Territory.id == values["comune_id"]))
        if kind != TerritoryKind.COMUNE:
            errors["comune_id"] = "not_a_comune"
        elif user is not None and values["comune_id"] != kept_comune_id and not _in_territory(
            session, user, values["comune_id"]
        ):
            errors["comune_id"] = "outside_territory"
    if errors:
        raise InvalidInput(errors)
    return values


def _in_territory(session: Session, user: User, comune_id: int) -> bool:
    return session.scalar(
        select(true()).where(Territory.id == comune_id, Territory.id.in_(territory_subtree(user)))
    ) is not None


def person_problems(
    session: Session, details: PersonDetails, *, today: date, user: User | None = None,
    kept_comune_id: int | None = None,
) -> dict[str, str]:
    """{field: error code} for a person's details, as registering them (by `user`, when given)
    would refuse them: an import's dry run, or the fields a form could read when it could not
    read them all."""
    try:
        _cleaned_person(session, details, today, user=user, kept_comune_id=kept_comune_id)
    except InvalidInput as error:
        return dict(error.errors)
    return {}


def _cleaned_member(details: HouseholdDetails, today: date) -> dict[str, Any]:
    values = {
        "first_name": details.first_name.strip(), "last_name": details.last_name.strip(),
        "relation": details.relation, "birth_date": details.birth_date,
    }
    errors: dict[str, str] = {}
    if not values["first_name"]:
        errors["first_name"] = "required"
    for name in ("first_name", "last_name"):
        if name not in errors and len(values[name]) > MAX_LENGTHS[name]:
            errors[name] = "too_long"
    if not isinstance(values["relation"], Relation):
        errors["relation"] = "required"
    if problem := _birth_date_problem(values["birth_date"], today):
        errors["birth_date"] = problem
    if errors:
        raise InvalidInput(errors)
    return values


# --- duplicates ---------------------------------------------------------------------------

def comparable_name(text: str) -> str:
    """'D'Angelo Gesù' and 'dangelo gesu' compare equal: case, accents, spaces, apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if character.isalnum()).casefold()


def find_possible_duplicates(
    session: Session, user: User, *, codice_fiscale: str | None, first_name: str, last_name: str,
    birth_date: date | None, exclude_id: int | None = None,
) -> list[PossibleDuplicate]:
    """People already registered with the same codice fiscale, or the same name and birth date.

    Searched among everyone, not only the people `user` may see: a person followed by another
    team is still the same person. What leaves this function about the others is only that
    they exist.
    """
    code = compact_codice_fiscale(codice_fiscale or "")
    conditions = []
    if code:
        conditions.append(Beneficiary.codice_fiscale == code)
    if birth_date is not None:
        conditions.append(Beneficiary.birth_date == birth_date)
    if not conditions:
        return []
    query = select(Beneficiary.id, Beneficiary.codice_fiscale, Beneficiary.first_name, Beneficiary.last_name).where(
        or_(*conditions)
    )
    if exclude_id is not None:
        query = query.where(Beneficiary.id != exclude_id)
    wanted_name = (comparable_name(first_name), comparable_name(last_name))
    found: list[PossibleDuplicate] = []
    for row in session.execute(query.order_by(Beneficiary.id)):
        if code and row.codice_fiscale == code:
            reason = "codice_fiscale"
        elif (comparable_name(row.first_name), comparable_name(row.last_name)) == wanted_name:
            reason = "name_and_birth_date"
        else:
            continue
        if can_see_beneficiary(session, user, row.id):
            found.append(PossibleDuplicate(reason, row.id, f"{row.first_name} {row.last_name}"))
        else:
            found.append(PossibleDuplicate(reason))
    return found


# --- the person's record ------------------------------------------------------------------

def create_beneficiary(
    session: Session, user: User, details: PersonDetails, *, clock: Clock, confirm_duplicates: bool = False,
) -> Beneficiary:
    """Register a person. Likely duplicates raise PossibleDuplicates unless confirmed; a
    codice fiscale already registered is refused even when confirmed."""
    _require_manager(user)
    values = _cleaned_person(session, details, _local_today(clock), user=user)
    duplicates = find_possible_duplicates(
        session, user, codice_fiscale=values["codice_fiscale"], first_name=values["first_name"],
        last_name=values["last_name"], birth_date=values["birth_date"],
    )
    error = PossibleDuplicates(duplicates)
    if duplicates and (error.blocking or not confirm_duplicates):
        raise error
    beneficiary = Beneficiary(**values, created_by_id=user.id, created_at=clock.now, updated_at=clock.now)
    session.add(beneficiary)
    try:
        session.flush()
    except IntegrityError:
        # Registered by someone else between the check above and now. The session must be
        # rolled back by the caller, as after any failed flush.
        raise InvalidInput({"codice_fiscale": "already_registered"}) from None
    return beneficiary


def _comune_name(session: Session, comune_id: int | None) -> str:
    if comune_id is None:
        return ""
    return session.scalar(select(Territory.name).where(Territory.id == comune_id)) or ""


def _history_values(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The fields as the edit history shows them: the comune by name, not by id."""
    shown = {name: value for name, value in values.items() if name != "comune_id"}
    shown["comune"] = _comune_name(session, values.get("comune_id"))
    return shown


def update_beneficiary(
    session: Session, user: User, beneficiary: Beneficiary, details: PersonDetails, *,
    expected_version: int | None, clock: Clock,
) -> list[ChangeRecord]:
    """Change a person's record, keeping one ChangeRecord per changed field."""
    _require_visible(session, user, beneficiary)
    check_version(beneficiary, expected_version)
    values = _cleaned_person(session, details, _local_today(clock), user=user, kept_comune_id=beneficiary.comune_id)
    if values["codice_fiscale"] and any(
        duplicate.reason == "codice_fiscale"
        for duplicate in find_possible_duplicates(
            session, user, codice_fiscale=values["codice_fiscale"], first_name="", last_name="",
            birth_date=None, exclude_id=beneficiary.id,
        )
    ):
        raise InvalidInput({"codice_fiscale": "already_registered"})
    before = {name: getattr(beneficiary, name) for name in PERSON_FIELDS}
    changed = {name: value for name, value in values.items() if before[name] != value}
    if not changed:
        return []
    for name, value in changed.items():
        setattr(beneficiary, name, value)
    try:
        touch(beneficiary, expected_version, clock.now)
    except IntegrityError:
        raise InvalidInput({"codice_fiscale": "already_registered"}) from None
    return record_changes(
        session, ENTITY, beneficiary.id, _history_values(session, before), _history_values(session, values),
        actor=user, now=clock.now,
    )


def _member_text(member: HouseholdMember) -> str:
    name = f"{member.first_name} {member.last_name}".strip()
    born = f", {member.birth_date.isoformat()}" if member.birth_date else ""
    return f"{name} ({member.relation.value}{born})"


def add_household_member(
    session: Session, user: User, beneficiary: Beneficiary, details: HouseholdDetails, *,
    expected_version: int | None, clock: Clock,
) -> HouseholdMember:
    _require_visible(session, user, beneficiary)
    check_version(beneficiary, expected_version)
    member = HouseholdMember(**_cleaned_member(details, _local_today(clock)))
    beneficiary.household.append(member)
    touch(beneficiary, expected_version, clock.now)
    record_changes(session, ENTITY, beneficiary.id, {}, {"household": _member_text(member)}, actor=user, now=clock.now)
    return member


def remove_household_member(
    session: Session, user: User, beneficiary: Beneficiary, member_id: int, *,
    expected_version: int | None, clock: Clock,
) -> None:
    _require_visible(session, user, beneficiary)
    check_version(beneficiary, expected_version)
    member = next((member for member in beneficiary.household if member.id == member_id), None)
    if member is None:
        raise InvalidInput({"member": "not_found"})
    removed = _member_text(member)
    beneficiary.household.remove(member)
    touch(beneficiary, expected_version, clock.now)
    record_changes(session, ENTITY, beneficiary.id, {"household": removed}, {"household": ""}, actor=user, now=clock.now)


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PactSummary:
    pact_id: int
    programme: str
    stage: str
    is_open: bool
    opened_at: datetime
    case_manager: str
    next_deadline_at: datetime | None
    next_deadline: str
    overdue: bool


@dataclass(frozen=True)
class BeneficiaryRecord:
    beneficiary: Beneficiary
    pacts: list[PactSummary]
    programmes: list[Programme]  # where the user may open a new pact for the person
    # Every consent to share the person's data the office recorded, withdrawn ones too (newest first).
    consents: list[DataSharingConsent] = field(default_factory=list)


def _pact_summary(registry: WorkflowRegistry, pact: Pact, now: datetime, locale: str) -> PactSummary:
    definition = registry.get(pact.workflow_name, pact.workflow_version).definition
    state = definition.states[pact.state]
    deadline = next((rule for rule in state.deadlines if rule.id == pact.next_deadline_label), None)
    return PactSummary(
        pact_id=pact.id, programme=pact.programme.name, stage=label_in(state.label, locale), is_open=pact.is_open,
        opened_at=pact.opened_at, case_manager=pact.case_manager.full_name, next_deadline_at=pact.next_deadline_at,
        next_deadline=label_in(deadline.label, locale) if deadline else definition.label_of(
            "deadline", pact.next_deadline_label, locale),
        overdue=pact.is_open and pact.next_deadline_at is not None and pact.next_deadline_at < now,
    )


def open_visible_beneficiary(
    session: Session, user: User, beneficiary_id: int, *, now: datetime, ip_address: str = "", detail: str = "",
) -> Beneficiary | None:
    """The person if `user` may see them, with the access written to the log; else None (404)."""
    beneficiary = get_visible_beneficiary(session, user, beneficiary_id)
    if beneficiary is not None:
        log_access(session, user, "view", ENTITY, beneficiary.id, now=now, ip_address=ip_address, detail=detail)
    return beneficiary


def beneficiary_record(
    session: Session, registry: WorkflowRegistry, user: User, beneficiary_id: int, *,
    clock: Clock, locale: str, ip_address: str = "",
) -> BeneficiaryRecord | None:
    """What the person's page shows: the record, the pacts the user may see, where a pact may open."""
    beneficiary = open_visible_beneficiary(session, user, beneficiary_id, now=clock.now, ip_address=ip_address)
    if beneficiary is None:
        return None
    pacts = session.scalars(
        visible_pacts(user).where(Pact.beneficiary_id == beneficiary.id)
        .options(joinedload(Pact.programme), joinedload(Pact.case_manager))
        .order_by(Pact.opened_at.desc(), Pact.id.desc())
    ).all()
    consents = session.scalars(
        select(DataSharingConsent).where(DataSharingConsent.beneficiary_id == beneficiary.id)
        .options(joinedload(DataSharingConsent.organisation), joinedload(DataSharingConsent.collected_by))
        .order_by(DataSharingConsent.given_on.desc(), DataSharingConsent.id.desc())
    ).all()
    return BeneficiaryRecord(
        beneficiary=beneficiary,
        pacts=[_pact_summary(registry, pact, clock.now, locale) for pact in pacts],
        programmes=programmes_open_to(session, user, clock=clock) if may_manage_people(user) else [],
        consents=list(consents),
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    field: str
    old_value: str
    new_value: str


@dataclass(frozen=True)
class BeneficiaryHistory:
    beneficiary: Beneficiary
    created_at: datetime
    created_by: str
    changes: list[HistoryEntry]


def beneficiary_history(
    session: Session, user: User, beneficiary_id: int, *, now: datetime, ip_address: str = "",
) -> BeneficiaryHistory | None:
    """Who changed what in the person's record and when, newest first (an access, so logged)."""
    beneficiary = open_visible_beneficiary(
        session, user, beneficiary_id, now=now, ip_address=ip_address, detail="history"
    )
    if beneficiary is None:
        return None
    records = session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == ENTITY, ChangeRecord.entity_id == beneficiary.id)
        .options(joinedload(ChangeRecord.actor)).order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
    ).all()
    creator = session.get(User, beneficiary.created_by_id) if beneficiary.created_by_id else None
    return BeneficiaryHistory(
        beneficiary=beneficiary, created_at=beneficiary.created_at,
        created_by=creator.full_name if creator else "",
        changes=[
            HistoryEntry(record.at, record.actor.full_name if record.actor else "", record.field,
                         record.old_value, record.new_value)
            for record in records
        ],
    )


def comuni(session: Session, user: User, *, keep: int | None = None) -> list[Territory]:
    """The comuni a person registered by `user` may live in: those of the user's territory and
    below, and `keep` (the comune a record already has), wherever it is."""
    in_scope = Territory.id.in_(territory_subtree(user))
    return list(session.scalars(
        select(Territory).where(Territory.kind == TerritoryKind.COMUNE, in_scope if keep is None else or_(
            in_scope, Territory.id == keep)).order_by(Territory.name)
    ))


# --- opening a pact -----------------------------------------------------------------------

def _programmes_open_to(user: User, today: date):
    return select(Programme).where(
        Programme.territory_id.in_(territory_subtree(user)),
        Programme.starts_on <= today,
        or_(Programme.ends_on.is_(None), Programme.ends_on >= today),
    )


def programmes_open_to(session: Session, user: User, *, clock: Clock) -> list[Programme]:
    """Running programmes of the user's territory and below, where they may open pacts."""
    if not may_manage_people(user):
        return []
    return list(session.scalars(_programmes_open_to(user, _local_today(clock)).order_by(Programme.name)))


def open_pact_for(
    session: Session, registry: WorkflowRegistry, user: User, beneficiary: Beneficiary, programme: Programme,
    clock: Clock,
) -> Pact:
    """Open a pact for the person in `programme`, with `user` as its case manager."""
    _require_visible(session, user, beneficiary)
    allowed = _programmes_open_to(user, _local_today(clock)).where(Programme.id == programme.id)
    if session.scalar(allowed.with_only_columns(true())) is None:
        raise InvalidInput({"programme_id": "not_allowed"})
    already_open = select(true()).where(
        Pact.beneficiary_id == beneficiary.id, Pact.programme_id == programme.id, Pact.closed_at.is_(None)
    )
    if session.scalar(already_open) is not None:
        raise InvalidInput({"programme_id": "already_open"})
    return open_pact(
        session, registry, beneficiary=beneficiary, programme=programme, case_manager=user, actor=user, clock=clock,
    )
