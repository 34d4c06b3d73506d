"""The caseload pages: supervisors only, figures linked to their pacts, reassignment with its errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from casework.models import (
    ApprovalDecision,
    Beneficiary,
    Gender,
    Pact,
    PactApproval,
    PactReassignment,
    PactRevision,
    Priority,
)
from casework.pacts import operations as ops
from casework.web import context
from tests.conftest import ZONE
from tests.web.conftest import csrf_token, sign_in, submit

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Rome


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture(autouse=True)
def moment(monkeypatch):
    monkeypatch.setattr(context, "now", lambda: NOW)


@pytest.fixture(autouse=True)
def english(db, people):
    """Everyone reads English here, so the page texts are the source strings."""
    for user in (people.manager, people.colleague, people.supervisor, people.other_supervisor, people.admin):
        user.locale = "en"
    db.commit()


@pytest.fixture
def caseload(app, db, people):
    """Giulia's first pact (from `people`, opened now) plus one overdue, high-priority pact of hers."""
    registry = app.extensions["casework"]["registry"]
    person = Beneficiary(first_name="Luisa", last_name="Verdi", gender=Gender.FEMALE, comune=people.beneficiary.comune)
    late = ops.open_pact(db, registry, beneficiary=person, programme=people.programme, case_manager=people.manager,
                         actor=people.manager, clock=ops.Clock(datetime(2026, 2, 1, 9, tzinfo=UTC), ZONE))
    late.priority, late.next_deadline_at = Priority.HIGH, datetime(2026, 3, 10, 17, tzinfo=UTC)
    db.commit()
    return late


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def figure_links(page: str) -> list[tuple[dict[str, str], str]]:
    """Each link to the drill-down: (its arguments, its text with the part for screen readers)."""
    return [
        (dict(parse_qsl(urlsplit(href).query)), re.sub(r"<[^>]+>", "", inner))
        for href, inner in re.findall(r'href="(/caseload/pacts\?[^"]*)">(.*?)</a>', page)
    ]


def reassign(client, data: dict, query: str = ""):
    return submit(client, f"/caseload/reassign{query}", data, form_page="/caseload/pacts")


# --- who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/caseload", "/caseload/pacts"])
def test_only_supervisors_open_the_pages(app, people, url):
    assert app.test_client().get(url).status_code == 302  # to the sign-in page
    for username in ("giulia", "admin"):
        assert client_for(app, username).get(url).status_code == 403
    assert client_for(app, "elena").get(url).status_code == 200
    assert client_for(app, "paolo").get(url).status_code == 200


def test_a_case_manager_cannot_reassign(app, db, people):
    client = client_for(app, "giulia")
    response = client.post("/caseload/reassign", data={
        "reassign-pacts": f"{people.pact.id}:{people.pact.version}", "reassign-to_manager": str(people.colleague.id),
        "reassign-reason": "x", "csrf_token": csrf_token(client, "/"),
    })
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(PactReassignment)) == 0


def test_the_menu_offers_the_caseloads_to_supervisors_only(app, people):
    assert 'href="/caseload"' in text(client_for(app, "elena").get("/"))
    assert 'href="/caseload"' not in text(client_for(app, "giulia").get("/"))


# --- the overview --------------------------------------------------------------------------------


def test_the_overview_shows_each_manager_with_linked_figures(app, people, caseload):
    page = text(client_for(app, "elena").get("/caseload"))
    assert "<caption>Open pacts of each case manager of your territory, by stage." in page
    assert '<th scope="row">Giulia Rossi</th>' in page and '<th scope="row">Marco Rossi</th>' in page
    manager = str(people.manager.id)
    links = figure_links(page)
    # Two open pacts in the referral stage, one of them overdue; each number opens its pacts and
    # says, to a screen reader, whose and which.
    assert ({"manager": manager, "stage": "referral"}, "2 · Giulia Rossi: Referral") in links
    assert ({"manager": manager}, "2 · Giulia Rossi: open pacts") in links
    assert ({"manager": manager, "deadline": "overdue"}, "1 · Giulia Rossi: overdue") in links
    # The other pact was opened just now, the late one on 1 February: 38 days without contact.
    assert ({"manager": manager, "flagged": "y"}, "1 · Giulia Rossi: without a recent contact") in links
    assert "38 days" in page
    # 0.5 (referral, no priority) + 0.5 x 1.5 (referral, high)
    assert '<td class="text-end">1.25</td>' in page
    assert ({"stage": "referral"}, "2 · All case managers: Referral") in links  # the totals row
    assert not any(args.get("manager") == str(people.colleague.id) for args, _ in links)  # Marco: only zeros
    assert "Due this week: deadlines from now to Sunday 15/03/2026." in page


def test_the_overview_of_another_territory_shows_none_of_them(app, people, caseload):
    page = text(client_for(app, "paolo").get("/caseload"))
    assert "Giulia" not in page and "There are no case managers in your territory yet." in page


def test_filters_keep_their_values_in_the_links(app, people, caseload):
    client = client_for(app, "elena")
    links = figure_links(text(client.get(f"/caseload?programme={people.programme.id}&priority=high")))
    assert ({"manager": str(people.manager.id), "programme": str(people.programme.id), "priority": "high",
             "stage": "referral"}, "1 · Giulia Rossi: Referral") in links
    links = figure_links(text(client.get("/caseload?stage=referral")))
    assert ({"manager": str(people.manager.id), "stage": "referral", "deadline": "overdue"},
            "1 · Giulia Rossi: overdue") in links


@pytest.mark.parametrize("query,field", [
    ("programme=99999", "programme"), ("stage=nowhere", "stage"), ("priority=urgent", "priority"),
    ("comune=abc", "comune"),
])
def test_a_refused_filter_is_explained_next_to_its_field(app, people, caseload, query, field):
    response = client_for(app, "elena").get(f"/caseload?{query}")
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error"[^>]*>Not a valid choice', text(response))


@pytest.mark.parametrize("url", ["/caseload", "/caseload/pacts"])
@pytest.mark.parametrize("field", ["comune", "programme", "stage", "priority", "manager", "deadline", "page"])
def test_a_filter_of_only_spaces_is_no_filter(app, people, caseload, url, field):
    """A blank filter (spaces, a tab, a new line) is a filter not given: the same page, never a 500."""
    client = client_for(app, "elena")
    response = client.get(f"{url}?{field}=%20%09%0A%20")
    assert response.status_code == 200
    page = text(response)
    assert "Verdi Luisa" in page or "Giulia Rossi" in page
    if url == "/caseload/pacts":
        assert "2 open pacts match the filters." in page
        assert "Bianchi Maria" in page and "Verdi Luisa" in page


# --- the drill-down ------------------------------------------------------------------------------


def test_the_drill_down_lists_pacts_with_links_and_versions(app, people, caseload):
    page = text(client_for(app, "elena").get(f"/caseload/pacts?manager={people.manager.id}&deadline=overdue"))
    assert "1 open pact matches the filters." in page
    assert f'href="/pacts/{caseload.id}">Verdi Luisa</a>' in page
    assert f'value="{caseload.id}:{caseload.version}"' in page
    assert '<span class="badge badge-overdue">Overdue</span>' in page
    assert "Bianchi Maria" not in page  # not overdue


@pytest.mark.parametrize("page", ["0", "9223372036854775807"])
def test_a_bad_page_number_is_explained(app, people, caseload, page):
    response = client_for(app, "elena").get(f"/caseload/pacts?page={page}")
    assert response.status_code == 422


# --- reassigning ---------------------------------------------------------------------------------


def test_reassigning_from_the_drill_down(app, db, people, caseload):
    client = client_for(app, "elena")
    query = f"?manager={people.manager.id}"
    response = reassign(client, {
        "reassign-pacts": [f"{caseload.id}:{caseload.version}", f"{people.pact.id}:{people.pact.version}"],
        "reassign-to_manager": str(people.colleague.id), "reassign-reason": "Giulia in congedo",
    }, query)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/caseload/pacts?manager={people.manager.id}"
    page = text(client.get(response.headers["Location"]))
    assert "2 pacts reassigned to Marco Rossi." in page
    db.expire_all()
    assert {pact.case_manager_id for pact in db.scalars(select(Pact))} == {people.colleague.id}
    timeline = text(client.get(f"/pacts/{caseload.id}/timeline"))
    assert "Case manager changed: from Giulia Rossi to Marco Rossi" in timeline
    assert "Reason: Giulia in congedo" in timeline


@pytest.mark.parametrize("data,field,message", [
    ({"reassign-reason": ""}, "reassign-reason", "Write why the pacts are reassigned."),
    ({"reassign-to_manager": ""}, "reassign-to_manager", "Choose the case manager who takes the pacts over."),
    ({"reassign-pacts": []}, "reassign-pacts", "Select at least one pact."),
    ({"reassign-pacts": ["12;x"]}, "reassign-pacts", "This form is out of date"),
    ({"reassign-pacts": ["²:1"]}, "reassign-pacts", "This form is out of date"),
    ({"reassign-pacts": ["99999999999999999999:1"]}, "reassign-pacts", "This form is out of date"),
    ({"reassign-to_manager": "giulia"}, "reassign-to_manager", "Choose an active case manager of your territory."),
])
def test_bad_input_is_explained_next_to_the_field(app, db, people, caseload, data, field, message):
    client = client_for(app, "elena")
    if data.get("reassign-to_manager") == "giulia":
        data = {"reassign-to_manager": str(people.manager.id)}
        message = "One of the selected pacts is already managed by this case manager."
    form = {"reassign-pacts": [f"{caseload.id}:{caseload.version}"], "reassign-to_manager": str(people.colleague.id),
            "reassign-reason": "motivo scritto", **data}
    response = reassign(client, form)
    assert response.status_code == 422
    page = text(response)
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}', page), page[page.find("alert"):][:400]
    assert db.scalar(select(func.count()).select_from(PactReassignment)) == 0
    if form["reassign-reason"]:
        assert "motivo scritto</textarea>" in page  # the typed reason is kept


def test_a_target_outside_the_territory_is_refused(app, db, people, caseload):
    client = client_for(app, "elena")
    response = reassign(client, {"reassign-pacts": [f"{caseload.id}:{caseload.version}"],
                                 "reassign-to_manager": str(people.other_supervisor.id), "reassign-reason": "x"})
    assert response.status_code == 422
    assert "Not a valid choice" in text(response)


def test_a_pact_someone_else_changed_answers_409_keeping_the_reason(app, db, people, caseload):
    client = client_for(app, "elena")
    stale = caseload.version
    caseload.updated_at = NOW
    db.commit()
    response = reassign(client, {"reassign-pacts": [f"{caseload.id}:{stale}"],
                                 "reassign-to_manager": str(people.colleague.id),
                                 "reassign-reason": "carico troppo alto"})
    assert response.status_code == 409
    page = text(response)
    assert f"Pact no. {caseload.id} was changed by someone else while you were choosing: nothing was reassigned." in page
    assert "carico troppo alto</textarea>" in page
    # The list shows the pact again, still selected, with the version to submit now.
    assert f'value="{caseload.id}:{stale + 1}" id="select-pact-{caseload.id}" checked' in page
    db.expire_all()
    assert db.get(Pact, caseload.id).case_manager_id == people.manager.id


def test_a_pact_the_supervisor_does_not_see_cannot_be_reassigned(app, db, people, caseload):
    client = client_for(app, "paolo")
    response = reassign(client, {"reassign-pacts": [f"{caseload.id}:{caseload.version}"],
                                 "reassign-to_manager": "", "reassign-reason": "x"})
    assert response.status_code == 422
    db.expire_all()
    assert db.get(Pact, caseload.id).case_manager_id == people.manager.id


def test_the_timeline_shows_approval_decisions(app, db, people, caseload):
    revision = PactRevision(pact_id=caseload.id, number=1, content={}, created_by_id=people.manager.id,
                            created_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    db.add(revision)
    db.flush()
    db.add_all([
        PactApproval(pact_id=caseload.id, revision_id=revision.id, decision=ApprovalDecision.SENT_BACK,
                     comment="Manca un obiettivo sul lavoro", decided_by_id=people.supervisor.id,
                     decided_at=datetime(2026, 3, 3, 9, tzinfo=UTC), pact_version=caseload.version),
        PactApproval(pact_id=caseload.id, revision_id=revision.id, decision=ApprovalDecision.APPROVED,
                     decided_by_id=people.supervisor.id, decided_at=datetime(2026, 3, 4, 9, tzinfo=UTC),
                     pact_version=caseload.version),
    ])
    db.commit()
    page = text(client_for(app, "giulia").get(f"/pacts/{caseload.id}/timeline"))
    approved = page.index("Pact approved (revision 1)")
    sent_back = page.index("Pact sent back for changes (revision 1)")
    assert approved < sent_back  # newest first
    assert "04/03/2026 10:00</time> · Elena Rossi" in page[approved - 200:approved]
    assert "Manca un obiettivo sul lavoro" in page[sent_back:sent_back + 200]
