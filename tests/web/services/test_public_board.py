"""The public board of services: off until an administrator switches it on; then anyone reads the
territory's active services, searches, prints and switches language, and sees no person. Both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from casework.models import (
    AdministrativeLogEntry,
    OfficeSettings,
    Organisation,
    OrganisationKind,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceMacroArea,
    ServiceReferral,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    TerritoryKind,
)
from tests.web.conftest import csrf_token, sign_in, static_url, submit

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def directory(db, people):
    """Services around the Unione NET (Settimo, and Volpiano added here) and one in Lodi;
    Maria Bianchi's pact is referred to the after-school club."""
    unione = people.programme.territory
    settimo = people.beneficiary.comune
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=unione)
    lodi_area = people.other_supervisor.territory
    lodi = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi_area)
    education = ServiceMacroArea(code="educazione", label_it="Educazione e scuola", label_en="Education and school",
                                 position=1)
    work = ServiceMacroArea(code="lavoro", label_it="Lavoro e formazione", label_en="Work and training", position=2)
    after_school = ServiceType(code="doposcuola", macro_area=education, label_it="Doposcuola",
                               label_en="After-school club", need_area="istruzione")
    internship = ServiceType(code="tirocini", macro_area=work, label_it="Tirocini", label_en="Internships",
                             need_area="lavoro")
    coop = Organisation(name="Cooperativa Il Ponte", kind=OrganisationKind.COOPERATIVE, territory=unione)

    def service(name: str, kind: ServiceType, comuni: list[Territory], *, active: bool = True, **more) -> Service:
        return Service(name=name, service_type=kind, organisation=coop, access=ServiceAccess.BY_APPOINTMENT,
                       cost=ServiceCost.FREE, active=active, last_checked_on=date(2026, 1, 1), created_at=NOW,
                       updated_at=NOW, comuni=[ServiceComune(territory=comune) for comune in comuni],
                       capacity=20, places_available=3, waiting_list=7, **more)

    found = {
        "club": service("Doposcuola Arcobaleno", after_school, [settimo], description="Aiuto nei compiti ogni pomeriggio.",
                        target_group="Ragazzi 11-14 anni", eligibility="Residenti a Settimo", address="Via Roma 1",
                        contact_email="ponte@example.org", contact_phone="011 123456", contact_name="Sig.ra Verdi",
                        opening_hours=[{"day": 0, "opens": "14:30", "closes": "18:00"}],
                        languages=[ServiceLanguage(language="it"), ServiceLanguage(language="ar")]),
        "closed": service("Ludoteca chiusa", after_school, [settimo], active=False),
        "internships": service("Tirocini in azienda", internship, [volpiano], description="Tirocini retribuiti."),
        "lodi": service("Sportello lavoro Lodi", internship, [lodi]),
    }
    db.add_all([volpiano, lodi, education, work, after_school, internship, coop, *found.values()])
    db.flush()
    db.add(ServiceReferral(pact_id=people.pact.id, service=found["club"], status=ServiceReferralStatus.REQUESTED,
                           proposed_at=NOW, requested_at=NOW, updated_at=NOW, note="Nota riservata sull'invio",
                           provider_contact="referente interna"))
    db.commit()
    return {"unione": unione, "settimo": settimo, "volpiano": volpiano, "lodi_area": lodi_area, **found}


def switch_on(db, *territories: Territory) -> None:
    for territory in territories:
        db.get(Territory, territory.id).public_board = True
    db.commit()


def page(client, url: str):
    reply = client.get(url)
    return reply, reply.get_data(as_text=True)


def test_a_board_that_is_off_is_the_same_404_as_no_territory_for_anyone(app, db, directory):
    anonymous = app.test_client()
    off, off_text = page(anonymous, f"/bacheca/{directory['unione'].id}")
    missing, missing_text = page(anonymous, "/bacheca/999999")
    assert off.status_code == missing.status_code == 404
    assert off_text == missing_text and "Pagina non trovata" in off_text
    assert "Unione NET" not in off_text and "Set-Cookie" not in off.headers
    service = f"/bacheca/{directory['unione'].id}/servizi/{directory['club'].id}"
    assert anonymous.get(service).status_code == 404
    admin = app.test_client()
    assert sign_in(admin, "admin").status_code == 302
    assert admin.get(f"/bacheca/{directory['unione'].id}").status_code == 404


def test_the_board_lists_the_territorys_active_services_and_no_person(app, db, people, directory):
    switch_on(db, directory["unione"])
    reply, html = page(app.test_client(), f"/bacheca/{directory['unione'].id}")
    assert reply.status_code == 200
    assert "Doposcuola Arcobaleno" in html and "Tirocini in azienda" in html
    assert "Ludoteca chiusa" not in html and "Sportello lavoro Lodi" not in html
    assert "Cooperativa Il Ponte" in html and "Educazione e scuola · Doposcuola" in html
    assert "Su appuntamento" in html and "Gratuito" in html and "lunedì 14:30–18:00" in html
    assert "Arabo, Italiano" in html and "ponte@example.org" in html and "Via Roma 1" in html
    # No person, no referral, no internal field.
    for secret in ("Bianchi", "Maria", "Nota riservata", "referente interna", "Sig.ra Verdi", "Giulia", "Richiesto"):
        assert secret not in html
    # No menu, no account, no session cookie for a visitor; the security headers as everywhere.
    assert "/logout" not in html and "csrf_token" not in html
    assert "Set-Cookie" not in reply.headers
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert f'<link rel="stylesheet" href="{static_url(app, "print.css")}">' in html


def test_the_board_of_a_comune_shows_only_its_services_and_the_office_name(app, db, directory):
    db.add(OfficeSettings(id=1, ente_name="Unione dei Comuni NET"))
    switch_on(db, directory["volpiano"])
    reply, html = page(app.test_client(), f"/bacheca/{directory['volpiano'].id}")
    assert reply.status_code == 200 and "Unione dei Comuni NET" in html
    assert "Tirocini in azienda" in html and "Doposcuola Arcobaleno" not in html


def test_search_by_text_macro_area_and_comune(app, db, directory):
    switch_on(db, directory["unione"])
    client = app.test_client()
    base = f"/bacheca/{directory['unione'].id}"
    _, html = page(client, f"{base}?q=doposcuola")
    assert "Doposcuola Arcobaleno" in html and "Tirocini in azienda" not in html
    _, html = page(client, f"{base}?area=lavoro")
    assert "Tirocini in azienda" in html and "Doposcuola Arcobaleno" not in html
    _, html = page(client, f"{base}?comune={directory['settimo'].id}")
    assert "Doposcuola Arcobaleno" in html and "Tirocini in azienda" not in html
    # A comune outside the board is not an option: the error next to the field, no listing.
    reply, html = page(client, f"{base}?comune={db.scalars(select(Territory.id).where(Territory.name == 'Lodi')).one()}")
    assert reply.status_code == 400 and "Scegli una delle opzioni." in html and "Sportello lavoro Lodi" not in html


def test_english_by_the_address_kept_by_its_links(app, db, directory):
    switch_on(db, directory["unione"])
    client = app.test_client()
    _, html = page(client, f"/bacheca/{directory['unione'].id}?lang=en")
    assert '<html lang="en">' in html and "Public board of services" in html
    assert "By appointment" in html and "Free of charge" in html and "Monday 14:30–18:00" in html
    assert "Education and school · After-school club" in html and "Arabic, Italian" in html
    assert f'href="/bacheca/{directory["unione"].id}/servizi/{directory["club"].id}?lang=en"' in html
    assert 'lang="it" hreflang="it"' in html
    _, italian = page(client, f"/bacheca/{directory['unione'].id}")
    assert '<html lang="it">' in italian and "Bacheca pubblica dei servizi" in italian


def test_a_service_page_shows_only_an_active_service_of_the_board(app, db, directory):
    switch_on(db, directory["unione"])
    client = app.test_client()
    unione = directory["unione"].id
    reply, html = page(client, f"/bacheca/{unione}/servizi/{directory['club'].id}")
    assert reply.status_code == 200 and "Aiuto nei compiti ogni pomeriggio." in html and "Ragazzi 11-14 anni" in html
    assert "Bianchi" not in html and "Nota riservata" not in html
    for other in ("closed", "lodi"):
        assert client.get(f"/bacheca/{unione}/servizi/{directory[other].id}").status_code == 404
    assert client.get(f"/bacheca/{unione}/servizi/999999").status_code == 404


def test_an_administrator_switches_the_board_on_and_the_change_is_logged(app, db, people, directory):
    unione = directory["unione"]
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 302
    form = client.get(f"/admin/territories/{unione.id}/edit").get_data(as_text=True)
    assert 'name="public_board"' in form and f"/bacheca/{unione.id}" in form
    reply = submit(client, f"/admin/territories/{unione.id}/edit",
                   {"name": unione.name, "parent_id": "", "public_board": "y"})
    assert reply.status_code == 302
    db.expire_all()
    assert db.get(Territory, unione.id).public_board is True
    entry = db.scalars(select(AdministrativeLogEntry).where(
        AdministrativeLogEntry.subject_type == "territory", AdministrativeLogEntry.subject_id == unione.id)).one()
    assert (entry.action, entry.changes) == ("update", {"public_board": ["False", "True"]})
    assert app.test_client().get(f"/bacheca/{unione.id}").status_code == 200
    # The tree links to the boards that are on.
    tree = client.get("/admin/territories").get_data(as_text=True)
    assert tree.count('href="/bacheca/') == 1 and f'href="/bacheca/{unione.id}"' in tree
    # Switched off again: 404 again.
    submit(client, f"/admin/territories/{unione.id}/edit", {"name": unione.name, "parent_id": ""})
    assert app.test_client().get(f"/bacheca/{unione.id}").status_code == 404


def test_a_supervisor_cannot_switch_the_board(app, db, people, directory):
    unione = directory["unione"]
    client = app.test_client()
    assert sign_in(client, "elena").status_code == 302
    token = csrf_token(client, "/notifications")
    reply = client.post(f"/admin/territories/{unione.id}/edit",
                        data={"csrf_token": token, "name": unione.name, "parent_id": "", "public_board": "y"})
    assert reply.status_code == 403
    db.expire_all()
    assert db.get(Territory, unione.id).public_board is False


def test_the_board_reads_a_fixed_number_of_queries_whatever_it_lists(app, db, directory):
    from sqlalchemy import event

    switch_on(db, directory["unione"])
    client = app.test_client()
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries(url: str) -> int:
        statements.clear()
        engine = app.extensions["casework"]["engine"]
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    base = f"/bacheca/{directory['unione'].id}"
    assert queries(f"{base}?q=doposcuola") == queries(base)  # one service listed, then two
