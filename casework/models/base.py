"""Declarative base, constraint naming convention and the UTC timestamp type."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DDL, DateTime, Enum, MetaData, event
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value an INTEGER id holds on PostgreSQL: a larger number in a URL or a form is
# no row's id, and must be answered as such rather than overflow the driver.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and returns them aware, on SQLite and PostgreSQL alike.

    Refusing naive values keeps local times from slipping into the database unnoticed.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR + CHECK enum column: portable, and adding a value needs no ALTER TYPE."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


class AppendOnlyViolation(Exception):
    """An attempt to change or delete a row of an audit table."""


# What an erased free text reads (casework.people.erasure): not empty, since several columns must
# never be (a reason, a signatory), and plainly not what was written.
ERASED_TEXT = "—"


def append_only_ddl(
    table: str, columns: tuple[str, ...] = (), sealed_by: tuple[str, ...] = (), erasable: tuple[str, ...] = (),
) -> dict[str, list[str]]:
    """Triggers that make the database itself refuse UPDATE and DELETE on `table`.

    With `sealed_by`, the one UPDATE allowed is setting those columns once, from NULL to values,
    with every other column (`columns`) unchanged: the integrity chain (casework.security.audit_chain)
    is written after the insert, so inserts never wait for a lock.

    With `erasable`, the one UPDATE allowed is setting those free-text columns to ERASED_TEXT,
    every other column unchanged: a person's erasure (casework.people.erasure) takes what was written about
    them out of the record while the record of who did what, when, stays."""
    message = f"{table} rows are append-only"
    if erasable:
        unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in columns if column not in erasable)
        emptied = " AND ".join(f"NEW.{column} = '{ERASED_TEXT}'" for column in erasable)
        arguments = ", ".join(f"'{column}'" for column in erasable)
        return {
            "sqlite": [
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"WHEN NOT ({emptied} AND {unchanged}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END",
            ],
            "postgresql": [
                "CREATE OR REPLACE FUNCTION refuse_audit_change_but_erase() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) "
                f"AND NOT EXISTS (SELECT 1 FROM unnest(TG_ARGV) AS erased(name) WHERE to_jsonb(NEW) ->> erased.name <> '{ERASED_TEXT}') "
                "THEN RETURN NEW; END IF; "
                "RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME "
                "USING ERRCODE = 'integrity_constraint_violation'; END $$",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_audit_change_but_erase({arguments})",
            ],
        }
    if sealed_by:
        unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in columns if column not in sealed_by)
        was_unsealed = " AND ".join(f"OLD.{column} IS NULL AND NEW.{column} IS NOT NULL" for column in sealed_by)
        without = " - ".join(f"'{column}'" for column in sealed_by)
        return {
            "sqlite": [
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"WHEN NOT ({was_unsealed} AND {unchanged}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END",
            ],
            "postgresql": [
                "CREATE OR REPLACE FUNCTION refuse_audit_change_but_seal() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF TG_OP = 'UPDATE' AND {was_unsealed} "
                f"AND (to_jsonb(NEW) - {without}) = (to_jsonb(OLD) - {without}) THEN RETURN NEW; END IF; "
                "RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME "
                "USING ERRCODE = 'integrity_constraint_violation'; END $$",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change_but_seal()",
            ],
        }
    return {
        "sqlite": [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ],
        "postgresql": [
            "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()",
        ],
    }


_APPEND_ONLY_MAPPERS: set[Any] = set()


def make_append_only(model: type[Base], sealed_by: tuple[str, ...] = (), erasable: tuple[str, ...] = ()) -> None:
    """Audit rows are never rewritten: refused by the ORM, by bulk statements and by the database
    (which alone allows the seal, or emptying the `erasable` free text: see `append_only_ddl`)."""

    def refuse(mapper: Any, connection: Any, target: Any) -> None:
        raise AppendOnlyViolation(f"{model.__tablename__} rows are append-only")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    _APPEND_ONLY_MAPPERS.add(model.__mapper__)
    columns = tuple(column.name for column in model.__table__.columns)
    for dialect, statements in append_only_ddl(model.__tablename__, columns, sealed_by, erasable).items():
        for statement in statements:
            # DDL() applies %-formatting to its text; the PostgreSQL message needs a literal %.
            event.listen(model.__table__, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))


# The execution option of an erasure's UPDATE: let through to the database, whose triggers allow
# only emptying the erasable columns.
ERASING_FREE_TEXT = "casework_erasing_free_text"


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_rewrites(state: ORMExecuteState) -> None:
    if state.is_update and state.execution_options.get(ERASING_FREE_TEXT):
        return
    if (state.is_update or state.is_delete) and state.bind_mapper in _APPEND_ONLY_MAPPERS:
        raise AppendOnlyViolation("audit rows are append-only")
