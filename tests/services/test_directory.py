"""Keeping the directory: who may, what is checked, what the history keeps, the listing and the stale flag."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from casework.errors import Conflict, InvalidInput
from casework.models import ChangeRecord, Service, ServiceAccess, ServiceCost, User
from casework.services import directory as core
from casework.services import stale_services_count
from casework.services.directory_listing import ServiceFilters, managed_services
from tests.services.directory_world import NOW, TODAY, Directory, build_directory

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def directory(session) -> Directory:
    return build_directory(session)


def _create(session, actor, data, *, now=NOW):
    service = core.create_service(session, actor, data, now=now, zone=ROME)
    session.commit()
    return service


def test_a_supervisor_enters_a_service_and_the_history_keeps_every_field(session, directory):
    service = _create(session, directory.supervisor, directory.service_input(session))
    session.expire_all()
    stored = session.get(Service, service.id)
    assert (stored.name, stored.organisation.name, stored.service_type.code) == (
        "Ludoteca Il Girasole", "Cooperativa Il Ponte", "ludoteca")
    assert stored.access == ServiceAccess.FREE_ACCESS and stored.cost == ServiceCost.FREE
    assert stored.opening_hours == [{"day": 0, "opens": "09:00", "closes": "12:30"},
                                    {"day": 2, "opens": "14:00", "closes": "18:00"}]
    assert [link.language for link in stored.languages] == ["ar", "it"]
    assert [link.territory.name for link in stored.comuni] == ["Settimo Torinese"]
    assert (stored.capacity, stored.places_available, stored.waiting_list) == (20, 5, 0)
    # 23:30 in Rome: the day it was checked is Rome's, not UTC's next one nor a day before.
    assert stored.active and stored.last_checked_on == TODAY and stored.version == 1
    history = {record.field: record for record in session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == "service", ChangeRecord.entity_id == service.id))}
    assert history["name"].new_value == "Ludoteca Il Girasole"
    assert history["organisation"].new_value == "Cooperativa Il Ponte"
    assert history["comuni"].new_value == "Settimo Torinese (001265)"
    assert history["opening_hours"].new_value == "lun 09:00-12:30; mer 14:00-18:00"
    assert history["languages"].new_value == "ar, it"
    assert {record.actor_id for record in history.values()} == {directory.supervisor.id}


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"name": "  "}, "name", "required"),
    ({"name": "x" * 201}, "name", "too_long"),
    ({"organisation_id": None}, "organisation_id", "required"),
    ({"type_id": None}, "type_id", "required"),
    ({"type_id": 999_999}, "type_id", "unknown_type"),
    ({"access": ""}, "access", "required"),
    ({"access": "sometimes"}, "access", "invalid_choice"),
    ({"cost": "cheap"}, "cost", "invalid_choice"),
    ({"comuni": ()}, "comuni", "required"),
    ({"languages": ("it", "xx")}, "languages", "unknown_language"),
    ({"opening_hours": "lunedì mattina"}, "opening_hours", "invalid_hours"),
    ({"opening_hours": "xyz 09:00-12:00"}, "opening_hours", "invalid_hours"),
    ({"opening_hours": "mar 25:00-26:00"}, "opening_hours", "invalid_hours"),
    ({"opening_hours": "mar 14:00-09:00"}, "opening_hours", "closes_before_opens"),
    ({"contact_email": "anna@"}, "contact_email", "invalid_email"),
    ({"website": "not a site"}, "website", "invalid_website"),
    ({"capacity": "-1"}, "capacity", "not_whole_number"),
    ({"waiting_list": "tre"}, "waiting_list", "not_whole_number"),
    ({"places_available": "2.5"}, "places_available", "not_whole_number"),
    ({"capacity": "99999999999999999999"}, "capacity", "too_large"),
    ({"capacity": "4", "places_available": "5"}, "places_available", "over_capacity"),
    ({"contact_phone": "1" * 41}, "contact_phone", "too_long"),
    ({"last_checked_on": TODAY + timedelta(days=1)}, "last_checked_on", "in_the_future"),
])
def test_each_bad_input_is_refused_at_its_field(session, directory, changes, field, code):
    with pytest.raises(InvalidInput) as refused:
        core.create_service(session, directory.supervisor, directory.service_input(session, **changes),
                            now=NOW, zone=ROME)
    assert refused.value.errors == {field: code}
    session.rollback()
    assert session.scalar(select(func.count(Service.id))) == 0


def test_every_wrong_field_is_named_at_once(session, directory):
    data = directory.service_input(session, name="", comuni=(), contact_email="no", capacity="-3")
    with pytest.raises(InvalidInput) as refused:
        core.create_service(session, directory.supervisor, data, now=NOW, zone=ROME)
    assert refused.value.errors == {"name": "required", "comuni": "required", "contact_email": "invalid_email",
                                    "capacity": "not_whole_number"}


def test_opening_hours_are_read_as_people_write_them():
    assert core.parse_opening_hours("Lunedì 9.00-12.30, 14:00-17:00; ven 08:30-24:00") == [
        {"day": 0, "opens": "09:00", "closes": "12:30"}, {"day": 0, "opens": "14:00", "closes": "17:00"},
        {"day": 4, "opens": "08:30", "closes": "24:00"}]
    assert core.format_opening_hours(core.parse_opening_hours("gio 14:00-18:00; lun 9:00-12:00")) == (
        "lun 09:00-12:00; gio 14:00-18:00")
    assert core.parse_opening_hours("  ") == []


def test_a_supervisor_places_services_only_with_organisations_and_comuni_of_their_territory(session, directory):
    for changes, field, code in (
        ({"organisation_id": directory.lodi_coop.id}, "organisation_id", "outside_territory"),
        ({"organisation_id": directory.closed.id}, "organisation_id", "inactive_organisation"),
        ({"comuni": (directory.settimo.id, directory.lodi.id)}, "comuni", "outside_territory"),
        ({"comuni": (directory.unione.id,)}, "comuni", "outside_territory"),  # not a comune
    ):
        with pytest.raises(InvalidInput) as refused:
            core.create_service(session, directory.supervisor, directory.service_input(session, **changes),
                                now=NOW, zone=ROME)
        assert refused.value.errors == {field: code}
    # An administrator keeps every territory's.
    service = _create(session, directory.admin, directory.service_input(
        session, organisation_id=directory.lodi_coop.id, comuni=(directory.lodi.id, directory.settimo.id)))
    assert sorted(link.territory.name for link in service.comuni) == ["Lodi", "Settimo Torinese"]


@pytest.mark.parametrize("who", ["manager", "inactive"])
def test_only_active_administrators_and_supervisors_keep_the_directory(session, directory, who):
    actor = directory.manager
    if who == "inactive":
        actor = directory.supervisor
        actor.active = False
    with pytest.raises(core.NotAllowed):
        core.create_service(session, actor, directory.service_input(session), now=NOW, zone=ROME)
    with pytest.raises(core.NotAllowed):
        managed_services(session, actor, ServiceFilters(), now=NOW, zone=ROME)
    with pytest.raises(core.NotAllowed):
        stale_services_count(session, actor, NOW, ROME)


def test_a_supervisor_of_another_territory_neither_reads_nor_changes_the_service(session, directory):
    service = _create(session, directory.supervisor, directory.service_input(session))
    outsider = directory.other_supervisor
    for attempt in (
        lambda: core.get_service(session, outsider, service.id),
        lambda: core.update_service(session, outsider, service.id, directory.service_input(session), now=NOW,
                                    zone=ROME, expected_version=1),
        lambda: core.deactivate_service(session, outsider, service.id, now=NOW),
        lambda: core.confirm_service_checked(session, outsider, service.id, now=NOW, zone=ROME),
        lambda: core.service_history(session, outsider, service.id),
    ):
        with pytest.raises(core.ServiceNotFound):
            attempt()
    assert managed_services(session, outsider, ServiceFilters(), now=NOW, zone=ROME).total == 0


def test_an_edit_records_each_changed_field_with_who_and_moves_the_version(session, directory):
    service = _create(session, directory.supervisor, directory.service_input(session))
    later = NOW + timedelta(days=3)
    data = directory.service_input(session, name="Ludoteca Girasole", comuni=(directory.settimo.id, directory.volpiano.id),
                                   languages=("it",), opening_hours="lun 09:00-12:30", places_available="3")
    core.update_service(session, directory.admin, service.id, data, now=later, zone=ROME, expected_version=1)
    session.commit()
    session.expire_all()
    stored = session.get(Service, service.id)
    assert stored.version == 2 and stored.updated_at.replace(tzinfo=None) == later.replace(tzinfo=None)
    changes = {record.field: (record.old_value, record.new_value, record.actor_id) for record in session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == "service", ChangeRecord.at > NOW))}
    admin = directory.admin.id
    assert changes == {
        "name": ("Ludoteca Il Girasole", "Ludoteca Girasole", admin),
        "comuni": ("Settimo Torinese (001265)", "Settimo Torinese (001265); Volpiano (001314)", admin),
        "languages": ("ar, it", "it", admin),
        "opening_hours": ("lun 09:00-12:30; mer 14:00-18:00", "lun 09:00-12:30", admin),
        "places_available": ("5", "3", admin),
    }
    # The same input again changes nothing: no history, the version stays.
    core.update_service(session, directory.admin, service.id, data, now=later, zone=ROME, expected_version=2)
    session.commit()
    assert session.get(Service, service.id).version == 2
    assert session.scalar(select(func.count(ChangeRecord.id)).where(ChangeRecord.at > later)) == 0


def test_an_edit_over_someone_elses_is_refused_and_writes_nothing(session, session_factory, directory):
    service = _create(session, directory.supervisor, directory.service_input(session))
    with session_factory() as other:
        core.update_service(other, other.get(User, directory.admin.id), service.id,
                            directory.service_input(other, name="Saved first"), now=NOW, zone=ROME,
                            expected_version=1)
        other.commit()
    session.expire_all()
    with pytest.raises(Conflict):
        core.update_service(session, directory.supervisor, service.id, directory.service_input(session, name="Late"),
                            now=NOW, zone=ROME, expected_version=1)
    session.rollback()
    assert session.get(Service, service.id).name == "Saved first"
    with pytest.raises(Conflict):
        core.deactivate_service(session, directory.supervisor, service.id, now=NOW, expected_version=1)


def test_deactivating_reactivating_and_confirming_are_in_the_history(session, directory):
    old = directory.service_input(session, last_checked_on=date(2024, 5, 1))
    service = _create(session, directory.supervisor, old)
    assert service.last_checked_on == date(2024, 5, 1)
    core.deactivate_service(session, directory.supervisor, service.id, now=NOW, expected_version=1)
    core.reactivate_service(session, directory.supervisor, service.id, now=NOW, expected_version=2)
    core.confirm_service_checked(session, directory.supervisor, service.id, now=NOW, zone=ROME, expected_version=3)
    session.commit()
    found = core.service_history(session, directory.supervisor, service.id)
    later = [(change.field, change.old_value, change.new_value) for change in found.changes if change.old_value]
    assert later == [("active", "True", "False"), ("active", "False", "True"),
                     ("last_checked_on", "2024-05-01", TODAY.isoformat())]
    assert found.service.version == 4 and found.changes[0].actor.username == "elena"
    # Confirming twice the same day changes nothing.
    core.confirm_service_checked(session, directory.supervisor, service.id, now=NOW, zone=ROME, expected_version=4)
    assert session.get(Service, service.id).version == 4


def test_the_listing_filters_pages_and_counts_in_two_queries(session, engine, directory):
    supervisor = directory.supervisor
    mediation = directory.type_id(session, "mediazione_culturale")
    for number in range(7):
        _create(session, supervisor, directory.service_input(session, name=f"Ludoteca {number}"))
    _create(session, supervisor, directory.service_input(session, name="Mediazione araba", type_id=mediation,
                                                         last_checked_on=date(2025, 3, 1)))
    stale = _create(session, supervisor, directory.service_input(session, name="Sportello 50%_x",
                                                                 type_id=mediation,
                                                                 last_checked_on=date(2025, 3, 1)))
    closed = _create(session, supervisor, directory.service_input(session, name="Vecchia ludoteca",
                                                                  last_checked_on=date(2020, 1, 1)))
    core.deactivate_service(session, supervisor, closed.id, now=NOW)
    _create(session, directory.admin, directory.service_input(session, name="Ludoteca di Lodi",
                                                              organisation_id=directory.lodi_coop.id,
                                                              comuni=(directory.lodi.id,)))
    session.commit()

    def names(actor=supervisor, **filters):
        found = managed_services(session, actor, ServiceFilters(**filters), now=NOW, zone=ROME, per_page=100)
        return [row.service.name for row in found.rows]

    assert len(names()) == 10 and "Ludoteca di Lodi" not in names()
    assert len(names(directory.admin)) == 11
    assert names(text="ARAB") == ["Mediazione araba"]
    assert names(text="50%_") == ["Sportello 50%_x"]  # % and _ are letters here, not wildcards
    area = session.get(Service, stale.id).service_type.macro_area_id
    assert names(macro_area_id=area) == ["Mediazione araba", "Sportello 50%_x"]
    assert names(organisation_id=directory.lodi_coop.id) == []
    assert names(directory.admin, organisation_id=directory.lodi_coop.id) == ["Ludoteca di Lodi"]
    assert names(active=False) == ["Vecchia ludoteca"]
    # Checked on 1 March 2025: more than 12 months before 2 March 2026; the deactivated one is not to check.
    assert names(stale=True) == ["Mediazione araba", "Sportello 50%_x"]
    assert stale_services_count(session, supervisor, NOW, ROME) == 2
    assert stale_services_count(session, directory.other_supervisor, NOW, ROME) == 0
    # Exactly 12 months is not yet "more than 12 months".
    assert stale_services_count(session, supervisor, NOW - timedelta(days=1), ROME) == 0

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    session.expire_all()
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = managed_services(session, session.get(User, supervisor.id), ServiceFilters(), now=NOW, zone=ROME,
                                page=2, per_page=4)
        rows = [(row.service.name, row.service.organisation.name, row.service.service_type.macro_area.code,
                 row.stale) for row in page.rows]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (page.total, page.pages, page.page) == (10, 3, 2)
    assert [row[0] for row in rows] == ["Ludoteca 4", "Ludoteca 5", "Ludoteca 6", "Mediazione araba"]
    assert rows[-1][3] is True and rows[0][3] is False
    assert len(statements) == 3  # the user, the count, the page


def test_a_service_checked_on_29_february_is_stale_a_year_and_a_day_later(session, directory):
    leap = directory.service_input(session, last_checked_on=date(2024, 2, 29))
    service = _create(session, directory.supervisor, leap, now=NOW.replace(year=2024))
    march_first = NOW.replace(year=2025, month=3, day=1)
    assert core.is_stale(service, march_first, ROME)
    assert not core.is_stale(service, march_first - timedelta(days=1), ROME)
