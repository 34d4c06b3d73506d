"""The schema protects itself: constraints, append-only history, UTC times, indexes, names.

Every database test runs on SQLite and on PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    Engine,
    ForeignKeyConstraint,
    Index,
    UniqueConstraint,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from casework.models import (
    AppendOnlyViolation,
    Base,
    Beneficiary,
    Gender,
    Pact,
    PactRevision,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    TransitionRecord,
    User,
)

UTC = timezone.utc
ROME = ZoneInfo("Europe/Rome")
OPENED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Ids:
    unione: int
    user: int
    programme: int
    beneficiary: int
    pact: int


@pytest.fixture
def ids(engine: Engine) -> Ids:
    """One row of each parent table and an open pact, committed."""
    with Session(engine) as session:
        unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
        user = User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                    role=Role.CASE_MANAGER, territory=unione)
        programme = Programme(code="TILDE", name="TILDE", funder="-", territory=unione,
                              starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato")
        beneficiary = Beneficiary(first_name="Maria", last_name="Rossi", gender=Gender.FEMALE,
                                  codice_fiscale="RSSMRA80A41L219X")
        pact = _pact(beneficiary=beneficiary, programme=programme, case_manager=user)
        session.add_all([unione, user, programme, beneficiary, pact])
        session.commit()
        return Ids(unione.id, user.id, programme.id, beneficiary.id, pact.id)


def _pact(**values) -> Pact:
    defaults = dict(workflow_name="patto_personalizzato", workflow_version=1, state="referral",
                    opened_at=OPENED, state_entered_at=OPENED, updated_at=OPENED)
    return Pact(**(defaults | values))


def _refused(engine: Engine, *rows, constraint: str | None = None) -> IntegrityError:
    """Adding the rows fails in the database (not in Python) with an IntegrityError."""
    with Session(engine) as session:
        session.add_all(rows)
        with pytest.raises(IntegrityError) as error:
            session.flush()
        session.rollback()
    if constraint is not None:
        assert constraint in str(error.value.orig)
    return error.value


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(text(f"SELECT count(*) FROM {table}"))


# --- constraints ------------------------------------------------------------------------

def test_a_comune_needs_a_six_digit_istat_code(engine, ids):
    _refused(engine, Territory(name="Volpiano", kind=TerritoryKind.COMUNE),
             constraint="ck_territory_comune_has_istat_code")
    _refused(engine, Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="1314"),
             constraint="ck_territory_comune_has_istat_code")
    with Session(engine) as session:
        session.add_all([Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314"),
                         Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)])
        session.commit()
    assert _count(engine, "territory") == 3


def test_two_comuni_cannot_share_an_istat_code(engine, ids):
    with Session(engine) as session:
        session.add(Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314"))
        session.commit()
    error = _refused(engine, Territory(name="Copia", kind=TerritoryKind.COMUNE, istat_code="001314"))
    assert "istat_code" in str(error.orig)


def test_a_programme_cannot_end_before_it_starts(engine, ids):
    _refused(engine, Programme(code="CHANCE", name="CHANCE", funder="Cariplo", territory_id=ids.unione,
                               starts_on=date(2026, 1, 1), ends_on=date(2025, 12, 31), workflow_name="x"),
             constraint="ck_programme_ends_after_start")
    with Session(engine) as session:
        session.add(Programme(code="CHANCE", name="CHANCE", funder="Cariplo", territory_id=ids.unione,
                              starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 1), workflow_name="x"))
        session.commit()


def test_a_pact_cannot_close_before_it_opened(engine, ids):
    _refused(engine, _pact(beneficiary_id=ids.beneficiary, programme_id=ids.programme, case_manager_id=ids.user,
                           closed_at=OPENED - timedelta(seconds=1)),
             constraint="ck_pact_closed_after_opened")


def test_a_pact_cannot_enter_a_state_before_it_opened(engine, ids):
    _refused(engine, _pact(beneficiary_id=ids.beneficiary, programme_id=ids.programme, case_manager_id=ids.user,
                           state_entered_at=OPENED - timedelta(days=1)),
             constraint="ck_pact_entered_after_opened")


def test_a_pact_needs_existing_parents(engine, ids):
    _refused(engine, _pact(beneficiary_id=ids.beneficiary + 1000, programme_id=ids.programme,
                           case_manager_id=ids.user))


def test_a_signed_revision_needs_consent(engine, ids):
    def revision(**values) -> PactRevision:
        return PactRevision(**({"pact_id": ids.pact, "number": 1, "content": {"goals": []}} | values))

    _refused(engine, revision(signed_on=date(2026, 3, 3), signed_by="Maria Rossi", consent_given=False),
             constraint="ck_pact_revision_signed_with_consent")
    _refused(engine, revision(signed_on=date(2026, 3, 3), signed_by=""),
             constraint="ck_pact_revision_signature_complete")
    with Session(engine) as session:
        session.add_all([revision(), revision(number=2, signed_on=date(2026, 3, 3), signed_by="Maria Rossi",
                                              consent_given=True)])
        session.commit()
    _refused(engine, revision(number=2))  # one revision per number


def test_codice_fiscale_is_unique_and_sixteen_characters(engine, ids):
    error = _refused(engine, Beneficiary(first_name="Maria", last_name="Rossi", gender=Gender.FEMALE,
                                         codice_fiscale="RSSMRA80A41L219X"))
    assert "codice_fiscale" in str(error.orig)
    _refused(engine, Beneficiary(first_name="Ana", last_name="Pop", gender=Gender.FEMALE, codice_fiscale="SHORT"),
             constraint="ck_beneficiary_codice_fiscale_length")
    with Session(engine) as session:  # several people may have none yet
        session.add_all([Beneficiary(first_name=name, last_name="X", gender=Gender.OTHER) for name in "AB"])
        session.commit()


@pytest.mark.parametrize("statement,constraint", [
    ("INSERT INTO territory (name, kind) VALUES ('Provincia di Lodi', 'provincia')", "ck_territory_territory_kind"),
    ("INSERT INTO beneficiary (first_name, last_name, birth_place, gender, migrant_background, citizenship,"
     " address, phone, email, created_at, updated_at) VALUES ('A', 'B', '', 'F', false, '', '', '', '',"
     " '2026-03-02 08:00:00', '2026-03-02 08:00:00')", "ck_beneficiary_gender"),
    ("UPDATE pact SET priority = 'urgent'", "ck_pact_priority"),
])
def test_an_invalid_enum_value_written_with_raw_sql_is_refused(engine, ids, statement, constraint):
    with engine.connect() as connection:
        with pytest.raises(IntegrityError) as error:
            connection.execute(text(statement))
        connection.rollback()
    assert constraint in str(error.value.orig)


def test_an_enum_value_the_schema_knows_is_accepted_with_raw_sql(engine, ids):
    with engine.begin() as connection:
        connection.execute(text("UPDATE pact SET priority = 'high'"))
    with Session(engine) as session:
        assert session.get(Pact, ids.pact).priority.value == "high"


# --- append-only history ----------------------------------------------------------------

def _record(engine: Engine, ids: Ids, version: int = 1) -> int:
    with Session(engine) as session:
        record = TransitionRecord(pact_id=ids.pact, event="open", from_state=None, to_state="referral",
                                  actor_id=ids.user, at=OPENED, pact_version=version)
        session.add(record)
        session.commit()
        return record.id


def test_transition_records_cannot_be_updated_through_the_orm(engine, ids):
    record_id = _record(engine, ids)
    with Session(engine) as session:
        record = session.get(TransitionRecord, record_id)
        record.comment = "rewritten"
        with pytest.raises(AppendOnlyViolation):
            session.flush()
    with Session(engine) as session:
        assert session.get(TransitionRecord, record_id).comment == ""


def test_transition_records_cannot_be_deleted_through_the_orm(engine, ids):
    record_id = _record(engine, ids)
    with Session(engine) as session:
        session.delete(session.get(TransitionRecord, record_id))
        with pytest.raises(AppendOnlyViolation):
            session.flush()
    assert _count(engine, "transition_record") == 1


def test_transition_records_cannot_be_rewritten_with_a_bulk_update(engine, ids):
    _record(engine, ids)
    with Session(engine) as session:
        with pytest.raises((AppendOnlyViolation, IntegrityError)):
            session.execute(update(TransitionRecord).values(comment="rewritten"))
        session.rollback()


def test_transition_records_can_be_added(engine, ids):
    _record(engine, ids, version=1)
    _record(engine, ids, version=2)
    assert _count(engine, "transition_record") == 2


def test_one_record_per_pact_version(engine, ids):
    _record(engine, ids, version=1)
    with pytest.raises(IntegrityError):
        _record(engine, ids, version=1)


def test_a_pact_with_history_cannot_be_deleted(engine, ids):
    _record(engine, ids)
    with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            connection.execute(text("DELETE FROM pact"))
        connection.rollback()
    assert _count(engine, "pact") == 1


# --- UTC timestamps ---------------------------------------------------------------------

def test_naive_datetimes_are_refused(engine, ids):
    with Session(engine) as session:
        session.get(Pact, ids.pact).closed_at = datetime(2026, 3, 10, 12, 0)
        with pytest.raises(StatementError) as error:
            session.flush()
    assert isinstance(error.value.orig, ValueError)
    assert "naive datetime" in str(error.value.orig)


def test_aware_datetimes_come_back_as_the_same_instant_in_utc(engine, ids):
    summer = datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=ROME)  # 10:30:15.123456 UTC
    with Session(engine) as session:
        session.get(Pact, ids.pact).closed_at = summer
        session.commit()
    with Session(engine) as session:
        pact = session.get(Pact, ids.pact)
        assert pact.closed_at == summer
        assert pact.closed_at.tzinfo is UTC
        assert pact.closed_at == datetime(2026, 7, 1, 10, 30, 15, 123456, tzinfo=UTC)
        assert pact.opened_at.tzinfo is UTC and pact.opened_at == OPENED
        # Comparisons in SQL use the same UTC values.
        assert session.scalar(select(Pact.id).where(Pact.closed_at > datetime(2026, 7, 1, 10, 30, tzinfo=UTC))) == ids.pact
        assert session.scalar(select(Pact.id).where(Pact.closed_at > datetime(2026, 7, 1, 12, 31, tzinfo=ROME))) is None


def test_the_database_holds_utc_wall_time(engine, ids):
    with Session(engine) as session:
        session.get(Pact, ids.pact).closed_at = datetime(2026, 12, 1, 9, 0, tzinfo=ROME)  # 08:00 UTC
        session.commit()
    with engine.connect() as connection:
        raw = connection.scalar(text("SELECT closed_at FROM pact"))
    if isinstance(raw, str):  # SQLite stores text
        raw = datetime.fromisoformat(raw)
    assert raw == datetime(2026, 12, 1, 8, 0)
    assert raw.tzinfo is None


# --- indexes and names (schema metadata) ------------------------------------------------

def _leading_columns(table) -> set[str]:
    """Columns that are the first column of some index, unique constraint or primary key."""
    leading = {ix.columns[0].name for ix in table.indexes if isinstance(ix, Index) and len(ix.columns)}
    leading |= {c.columns[0].name for c in table.constraints
                if isinstance(c, UniqueConstraint) and len(c.columns)}
    leading.add(table.primary_key.columns[0].name)
    return leading


# Foreign keys the application looks rows up by (lists per pact, caseloads, territory trees,
# deadlines, audit history): each needs an index starting with it.
QUERIED_FOREIGN_KEYS = {
    "pact.beneficiary_id", "pact.programme_id", "pact.case_manager_id",
    "pact_member.pact_id", "referral.pact_id", "screening.pact_id", "goal.pact_id",
    "pact_action.pact_id", "commitment.pact_id", "pact_revision.pact_id", "follow_up_contact.pact_id",
    "pact_outcome.pact_id", "transition_record.pact_id",
    "territory.parent_id", "organisation.territory_id", "programme.territory_id",
    "programme_target.programme_id", "beneficiary.comune_id", "household_member.beneficiary_id",
    "user_account.territory_id", "user_account.organisation_id", "pact_member.user_id", "pact_action.goal_id",
    "beneficiary.created_by_id", "user_session.user_id", "document.beneficiary_id", "document.pact_id",
    "journal_entry.pact_id",
    "pact_deadline.pact_id", "reminder.pact_id", "reminder.recipient_id", "reminder.deadline_id",
    "reminder.email_id", "notification.user_id", "notification.pact_id", "notification.deadline_id",
    "outbound_email.recipient_id", "deadline_pause.pact_id", "deadline_anchor_move.pact_id", "deadline_snooze.pact_id",
    "calendar_feed_token.user_id",
    "pact_approval.pact_id", "pact_approval.revision_id", "pact_reassignment.pact_id",
    "pact_reassignment.from_manager_id", "pact_reassignment.to_manager_id",
    "administrative_log_entry.actor_id", "absence_cover.absent_user_id", "absence_cover.covering_user_id",
    "account_token.user_id", "password_reset_request.user_id",
    "closure_day.territory_id",
    "service_type.macro_area_id", "service.organisation_id", "service.type_id", "service_comune.service_id",
    "service_comune.territory_id", "service_language.service_id", "service_search_term.service_id",
    "service_referral.pact_id", "service_referral.service_id", "service_referral.action_id",
    "service_referral_event.referral_id", "service_referral_event.pact_id",
    "data_sharing_consent.beneficiary_id", "data_sharing_consent.organisation_id", "data_sharing_consent.referral_id",
    "second_factor.user_id", "recovery_code.user_id", "beneficiary_restriction.beneficiary_id",
}
# Foreign keys only followed from the row that holds them ("who recorded this"): not indexed
# on purpose. A new foreign key must be added to one of the two sets.
UNINDEXED_FOREIGN_KEYS = {
    "referral.recorded_by_id", "screening.completed_by_id", "pact_revision.created_by_id",
    "follow_up_contact.recorded_by_id", "pact_outcome.recorded_by_id", "transition_record.actor_id",
    "access_log_entry.user_id", "change_record.actor_id", "document.uploaded_by_id", "journal_entry.author_id",
    "deadline_pause.paused_by_id", "deadline_pause.resumed_by_id", "deadline_anchor_move.moved_by_id",
    "deadline_snooze.snoozed_by_id",
    "pact_approval.decided_by_id", "pact_reassignment.actor_id",
    "absence_cover.created_by_id",
    "office_settings.updated_by_id",
    "service_referral.proposed_by_id", "service_referral_event.actor_id", "data_sharing_consent.collected_by_id",
    "beneficiary_restriction.restricted_by_id", "beneficiary_restriction.lifted_by_id",
}


def _foreign_key_columns() -> set[str]:
    return {f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
            for column in table.columns if column.foreign_keys}


def test_every_foreign_key_is_classified():
    assert QUERIED_FOREIGN_KEYS | UNINDEXED_FOREIGN_KEYS == _foreign_key_columns()
    assert not QUERIED_FOREIGN_KEYS & UNINDEXED_FOREIGN_KEYS


@pytest.mark.parametrize("column", sorted(QUERIED_FOREIGN_KEYS))
def test_queried_foreign_keys_have_an_index(column):
    table_name, column_name = column.split(".")
    assert column_name in _leading_columns(Base.metadata.tables[table_name])


def test_the_deadline_sweep_and_history_have_their_indexes():
    pact = Base.metadata.tables["pact"]
    [deadline] = [ix for ix in pact.indexes if ix.name == "ix_pact_open_deadline"]
    assert [c.name for c in deadline.columns] == ["next_deadline_at"]
    assert "closed_at IS NULL" in str(deadline.dialect_options["postgresql"]["where"])
    assert "closed_at IS NULL" in str(deadline.dialect_options["sqlite"]["where"])
    history = Base.metadata.tables["transition_record"]
    assert any(
        isinstance(constraint, UniqueConstraint) and [c.name for c in constraint.columns] == ["pact_id", "pact_version"]
        for constraint in history.constraints
    )


def test_constraint_names_follow_the_naming_convention():
    names = {c.name for table in Base.metadata.tables.values() for c in table.constraints}
    names |= {ix.name for table in Base.metadata.tables.values() for ix in table.indexes}
    for expected in ["ck_pact_version_positive", "fk_pact_programme_id_programme", "pk_pact",
                     "uq_beneficiary_codice_fiscale", "ck_territory_comune_has_istat_code",
                     "ck_pact_priority", "fk_transition_record_pact_id_pact", "ix_pact_beneficiary_id",
                     "uq_pact_revision_pact_id_number"]:
        assert expected in names
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            prefix = {"PrimaryKeyConstraint": "pk", "ForeignKeyConstraint": "fk",
                      "UniqueConstraint": "uq", "CheckConstraint": "ck"}[type(constraint).__name__]
            assert constraint.name.startswith(f"{prefix}_{table.name}_") or constraint.name == f"pk_{table.name}"
            if isinstance(constraint, ForeignKeyConstraint):
                referred = constraint.elements[0].column.table.name
                assert constraint.name == f"fk_{table.name}_{constraint.columns[0].name}_{referred}"
        for index in table.indexes:
            assert index.name.startswith(f"ix_{table.name}_")
    # PostgreSQL cuts identifiers at 63 characters: longer names would differ between databases.
    assert max(len(name) for name in names) <= 63


def test_the_database_has_the_conventional_names(engine):
    inspector = inspect(engine)
    assert "ck_pact_version_positive" in {c["name"] for c in inspector.get_check_constraints("pact")}
    assert "fk_pact_programme_id_programme" in {f["name"] for f in inspector.get_foreign_keys("pact")}
    assert inspector.get_pk_constraint("pact")["name"] == "pk_pact"
    assert "uq_beneficiary_codice_fiscale" in {u["name"] for u in inspector.get_unique_constraints("beneficiary")}
    assert {"ix_pact_beneficiary_id", "ix_pact_open_deadline"} <= {i["name"] for i in inspector.get_indexes("pact")}
    for table in Base.metadata.sorted_tables:
        expected = {c.name for c in table.constraints if type(c).__name__ == "CheckConstraint"}
        assert {c["name"] for c in inspector.get_check_constraints(table.name)} == expected, table.name
        expected = {c.name for c in table.constraints if isinstance(c, ForeignKeyConstraint)}
        assert {f["name"] for f in inspector.get_foreign_keys(table.name)} == expected, table.name
