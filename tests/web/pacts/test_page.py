"""The pact page: who sees it, each form valid and invalid, the moves, conflicts, the print view."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from casework.models import (
    AccessLogEntry,
    ActionStatus,
    ItemStatus,
    Pact,
    Priority,
    Programme,
    TransitionRecord,
)
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.support import DEFAULT_PATHS, advance, valid_answers
from tests.web.conftest import csrf_token, sign_in, static_url, submit

ROME = ZoneInfo("Europe/Rome")


# Helpers ---------------------------------------------------------------------------------

def signed_in(app, username: str, *, english: bool = True):
    client = app.test_client()
    sign_in(client, username)
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def current(db, pact_id: int) -> Pact:
    db.expire_all()
    return db.get(Pact, pact_id)


def version(db, pact_id: int) -> int:
    return current(db, pact_id).version


def fields(prefix: str, **values) -> dict[str, object]:
    return {f"{prefix}-{name}": value for name, value in values.items()}


def post(client, pact_id: int, path: str, data: dict):
    return submit(client, f"/pacts/{pact_id}/{path}", data, form_page=f"/pacts/{pact_id}")


def move(client, db, pact_id: int, event: str, comment: str = "", *, read_version: int | None = None,
         reason: str = ""):
    data = {"event": event, "comment": comment, "reason": reason, "version": read_version or version(db, pact_id)}
    return post(client, pact_id, "transition", data)


def today() -> str:
    return datetime.now(ROME).date().isoformat()


def local_minute(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%dT%H:%M")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def screening_data(registry, pact: Pact, *, worst: bool = False) -> dict[str, object]:
    questionnaire = registry.engine_for(pact).definition.questionnaire
    answers = {}
    for question_id, value in valid_answers(questionnaire, worst=worst).items():
        answers[question_id] = ("yes" if value else "no") if isinstance(value, bool) else value
    return {f"screening-q_{question_id}": value for question_id, value in answers.items()}


def access_rows(db, user, action: str = "view") -> list[AccessLogEntry]:
    db.expire_all()
    return list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.user_id == user.id,
                                                        AccessLogEntry.action == action)))


@pytest.fixture
def registry(app):
    return app.extensions["casework"]["registry"]


@pytest.fixture
def backdated(db, people):
    """The pact opened two days ago, so a contact "an hour ago" falls inside its life."""
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    db.execute(update(Pact).where(Pact.id == people.pact.id).values(opened_at=two_days_ago,
                                                                     state_entered_at=two_days_ago))
    db.commit()
    return people.pact


def reach(db, registry, people, state: str) -> Pact:
    """Move the fixture's pact to `state` through the core, recording what each move needs."""
    pact = current(db, people.pact.id)
    clock = ops.Clock(datetime.now(timezone.utc), ZONE)
    for event in DEFAULT_PATHS[state]:
        advance(db, registry, pact, event, people.manager, clock)
    return pact


# Who sees the page --------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "status"), [
    ("giulia", 200),  # the case manager of the pact
    ("marco", 404),  # a colleague not assigned to it
    ("elena", 200),  # the supervisor of the territory
    ("paolo", 404),  # a supervisor of another territory
    ("admin", 404),  # administrators see no case data
])
def test_the_page_for_each_role(app, people, username, status):
    client = signed_in(app, username)
    response = client.get(f"/pacts/{people.pact.id}")
    assert response.status_code == status
    if status == 200:
        page = text(response)
        assert "Pact of Maria Bianchi" in page
        assert "Referral" in page and "TILDE" in page


def test_signing_in_is_required(app, people):
    response = app.test_client().get(f"/pacts/{people.pact.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def restricted(db, people, registry) -> Pact:
    """A case of the programme for victims of violence: only the people assigned see it."""
    pact = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=people.restricted,
                         case_manager=people.manager, actor=people.manager,
                         clock=ops.Clock(datetime.now(timezone.utc), ZONE))
    db.commit()
    return pact


def test_a_restricted_case_is_shown_to_its_case_manager(app, restricted):
    assert signed_in(app, "giulia").get(f"/pacts/{restricted.id}").status_code == 200


def test_a_restricted_case_is_hidden_from_the_supervisor(app, restricted):
    assert signed_in(app, "elena").get(f"/pacts/{restricted.id}").status_code == 404


def test_each_viewing_is_in_the_access_log(app, db, people):
    client = signed_in(app, "giulia")
    before = len(access_rows(db, people.manager))
    client.get(f"/pacts/{people.pact.id}")
    rows = access_rows(db, people.manager)
    assert len(rows) == before + 1
    assert (rows[-1].subject_type, rows[-1].subject_id, rows[-1].ip_address) == ("pact", people.pact.id, "127.0.0.1")
    signed_in(app, "marco").get(f"/pacts/{people.pact.id}")
    assert access_rows(db, people.colleague) == []  # a page not shown is not a viewing


def test_a_supervisors_viewing_is_in_the_access_log(app, db, people):
    signed_in(app, "elena").get(f"/pacts/{people.pact.id}")
    [row] = access_rows(db, people.supervisor)
    assert (row.subject_type, row.subject_id) == ("pact", people.pact.id)


def test_the_page_is_italian_by_default(app, people):
    page = text(signed_in(app, "giulia", english=False).get(f"/pacts/{people.pact.id}"))
    assert "Segnalazione" in page and "Registra la rinuncia" in page
    assert "la segnalazione non è stata registrata" in page


def test_a_colleague_cannot_post_to_a_pact_they_cannot_see(app, db, people):
    client = signed_in(app, "marco")
    response = submit(client, f"/pacts/{people.pact.id}/referral", fields(
        "referral", version=1, source="school", reason="x", referred_on=today()), form_page="/")
    assert response.status_code == 404
    assert current(db, people.pact.id).referral is None


# Moves --------------------------------------------------------------------------------------

def test_only_allowed_moves_are_buttons_and_the_others_say_why(app, people):
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    assert 'name="event" value="withdraw"' in page
    assert 'name="event" value="start_screening"' not in page
    assert "1 move not possible yet" in page and "the referral has not been recorded" in page


@pytest.mark.parametrize(("state", "event", "reason"), [
    ("referral", "start_screening", "the referral has not been recorded"),
    ("screening", "start_co_design", "the screening questionnaire has not been completed"),
    ("screening", "declare_not_eligible", "the screening questionnaire has not been completed"),
    ("screening", "suspend", "a reason is required"),
    ("co_design", "activate", "the pact has not been signed"),
    ("activation", "start_follow_up", "no action of the pact has started yet"),
    ("follow_up", "close", "the outcome has not been recorded"),
    ("follow_up", "withdraw", "Choose a reason."),
])
def test_a_refused_move_shows_the_engines_reason(app, db, people, registry, state, event, reason):
    reach(db, registry, people, state)
    client = signed_in(app, "giulia")
    response = move(client, db, people.pact.id, event)
    assert response.status_code == 422
    assert reason in text(response)
    assert current(db, people.pact.id).state == state


def test_a_move_from_the_wrong_stage_is_refused_in_words(app, db, people):
    response = move(signed_in(app, "giulia"), db, people.pact.id, "close")
    assert response.status_code == 422
    assert "not possible at the pact's current stage" in text(response)


def test_a_move_with_its_reason_is_recorded(app, db, people):
    client = signed_in(app, "giulia")
    response = move(client, db, people.pact.id, "withdraw", "si è trasferita", reason="moved_away")
    assert response.status_code == 302
    pact = current(db, people.pact.id)
    assert pact.state == "withdrawn" and not pact.is_open
    record = db.scalars(select(TransitionRecord).where(TransitionRecord.event == "withdraw")).one()
    assert (record.comment, record.reason, record.actor_id) == ("si è trasferita", "moved_away", people.manager.id)
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert "The pact of Maria Bianchi is now at the stage: Withdrawn." in page
    assert "reason: Moved out of the territory" in page
    assert f'action="/pacts/{people.pact.id}/referral"' not in page  # a closed pact offers no forms


# Referral ---------------------------------------------------------------------------------------

def test_referral_form_valid(app, db, people):
    client = signed_in(app, "giulia")
    response = post(client, people.pact.id, "referral", fields(
        "referral", version=version(db, people.pact.id), source="school", reason="assenze ripetute",
        referrer_name="Prof.ssa Verdi", referrer_contact="verdi@scuola.it", referred_on=today()))
    assert response.status_code == 302
    referral = current(db, people.pact.id).referral
    assert (referral.source.value, referral.reason, referral.referrer_name) == ("school", "assenze ripetute",
                                                                                "Prof.ssa Verdi")
    page = text(client.get(response.headers["Location"]))
    assert "Referral saved." in page and "assenze ripetute" in page
    assert 'name="event" value="start_screening"' in page


def test_referral_form_invalid(app, db, people):
    client = signed_in(app, "giulia")
    tomorrow = (datetime.now(ROME).date() + timedelta(days=1)).isoformat()
    response = post(client, people.pact.id, "referral", fields(
        "referral", version=version(db, people.pact.id), source="", reason="  ", referred_on=tomorrow))
    assert response.status_code == 422
    page = text(response)
    assert 'id="referral-source-error"' in page and "This field is required." in page
    assert current(db, people.pact.id).referral is None

    # The form checks presence; the core checks the rules, and its errors land next to the fields too.
    response = post(client, people.pact.id, "referral", fields(
        "referral", version=version(db, people.pact.id), source="school", reason="motivo", referred_on=tomorrow))
    assert response.status_code == 422
    assert 'id="referral-referred_on-error"' in text(response) and "This date is in the future." in text(response)
    assert current(db, people.pact.id).referral is None


# Screening --------------------------------------------------------------------------------------

def test_screening_form_valid(app, db, people, registry):
    pact = reach(db, registry, people, "screening")
    client = signed_in(app, "giulia")
    data = {"screening-version": version(db, pact.id), **screening_data(registry, pact, worst=True)}
    response = post(client, pact.id, "screening", data)
    assert response.status_code == 302
    pact = current(db, pact.id)
    assert pact.priority == Priority.HIGH and pact.latest_screening.answers["occupazione"] == "mai_lavorato"
    page = text(client.get(f"/pacts/{pact.id}"))
    assert "Need profile" in page and "Never worked" in page and "priority: High" in page
    assert 'name="event" value="start_co_design"' in page


def test_the_screening_form_is_built_from_the_workflow_file(app, people):
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    assert 'type="radio" value="disoccupato"' in page  # choice
    assert 'name="screening-q_difficolta_alimentari" required type="radio" value="yes"' in page  # boolean
    assert '<select' in page and 'id="screening-q_carichi_cura"' in page  # scale 0..3
    assert '<option value="3">3 = serious difficulty</option>' in page  # each step says what it means
    assert '<textarea' in page and 'id="screening-q_note"' in page  # text, optional
    assert "Need area: Work" in page


def test_screening_form_invalid_keeps_the_answers_given(app, db, people, registry):
    pact = reach(db, registry, people, "screening")
    client = signed_in(app, "giulia")
    data = {"screening-version": version(db, pact.id), **screening_data(registry, pact)}
    del data["screening-q_occupazione"]
    data["screening-q_carichi_cura"] = "9"  # not on the scale
    response = post(client, pact.id, "screening", data)
    assert response.status_code == 422
    page = text(response)
    assert 'id="screening-q_occupazione-error"' in page and "Answer this question." in page
    assert 'id="screening-q_carichi_cura-error"' in page
    assert '<input checked class="form-check-input" id="screening-q_abitazione-0"' in page  # an answer given is still ticked
    assert current(db, pact.id).screenings == []


def test_a_number_question_needs_a_whole_number(app, db, people, registry):
    programme = Programme(code="CHANCE", name="CHANCE", funder="Fondazione Cariplo",
                          territory_id=people.programme.territory_id, starts_on=date(2025, 1, 1),
                          workflow_name="chance_dispersione")
    db.add(programme)
    chance = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=programme,
                           case_manager=people.manager, actor=people.manager,
                           clock=ops.Clock(datetime.now(timezone.utc), ZONE))
    db.commit()
    client = signed_in(app, "giulia")
    data = {"screening-version": version(db, chance.id), **screening_data(registry, current(db, chance.id))}
    data["screening-q_bocciature"] = "due"
    response = post(client, chance.id, "screening", data)
    assert response.status_code == 422
    assert 'id="screening-q_bocciature-error"' in text(response)
    data["screening-q_bocciature"] = "2"
    assert post(client, chance.id, "screening", data).status_code == 302
    assert current(db, chance.id).latest_screening.answers["bocciature"] == 2


# Co-design ----------------------------------------------------------------------------------------

def test_goal_action_and_commitment_forms_valid(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia")
    assert post(client, pact.id, "goals", fields(
        "goal", version=version(db, pact.id), description="trovare casa", need_area="casa",
        target_date="2027-06-30")).status_code == 302
    goal = current(db, pact.id).goals[-1]
    assert (goal.description, goal.need_area, goal.target_date.isoformat()) == ("trovare casa", "casa", "2027-06-30")

    assert post(client, pact.id, "actions", fields(
        "action", version=version(db, pact.id), description="domanda di casa popolare", goal=str(goal.id),
        performer="service", performer_detail="Ufficio casa del Comune", due_on="2027-01-31")).status_code == 302
    action = current(db, pact.id).actions[-1]
    assert (action.goal_id, action.performer.value, action.performer_detail) == (goal.id, "service",
                                                                                  "Ufficio casa del Comune")

    assert post(client, pact.id, "commitments", fields(
        "commitment", version=version(db, pact.id), party="family", text="accompagnare agli appuntamenti",
    )).status_code == 302
    assert current(db, pact.id).commitments[-1].text == "accompagnare agli appuntamenti"

    page = text(client.get(f"/pacts/{pact.id}"))
    assert "Goal: trovare casa" in page and "Housing" in page and "30/06/2027" in page
    assert "A service: Ufficio casa del Comune" in page and "accompagnare agli appuntamenti" in page


def test_goal_action_and_commitment_forms_invalid(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    before = (len(pact.goals), len(pact.actions), len(pact.commitments))
    client = signed_in(app, "giulia")
    response = post(client, pact.id, "goals", fields("goal", version=version(db, pact.id), description="",
                                                     need_area="no_such_area", target_date="31/12/2026"))
    assert response.status_code == 422
    page = text(response)
    assert 'id="goal-description-error"' in page and 'id="goal-need_area-error"' in page
    assert 'id="goal-target_date-error"' in page

    response = post(client, pact.id, "actions", fields("action", version=version(db, pact.id),
                                                       description="colloquio", performer="", goal="99999"))
    assert response.status_code == 422
    page = text(response)
    assert 'id="action-performer-error"' in page and 'id="action-goal-error"' in page
    assert "colloquio" in page  # what was typed is kept

    response = post(client, pact.id, "commitments", fields("commitment", version=version(db, pact.id),
                                                           party="family", text=" "))
    assert response.status_code == 422 and 'id="commitment-text-error"' in text(response)
    pact = current(db, pact.id)
    assert (len(pact.goals), len(pact.actions), len(pact.commitments)) == before


def test_action_and_goal_status(app, db, people, registry):
    pact = reach(db, registry, people, "activation")
    client = signed_in(app, "giulia")
    action, goal = pact.actions[0], pact.goals[0]
    page = text(client.get(f"/pacts/{pact.id}"))
    assert 'name="status" value="in_progress"' in page
    response = post(client, pact.id, f"actions/{action.id}/status",
                    {"version": version(db, pact.id), "status": "in_progress"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#action-{action.id}")
    assert current(db, pact.id).actions[0].status == ActionStatus.IN_PROGRESS
    assert post(client, pact.id, f"actions/{action.id}/status",
                {"version": version(db, pact.id), "status": "done"}).status_code == 302
    assert current(db, pact.id).actions[0].status == ActionStatus.DONE

    assert post(client, pact.id, f"goals/{goal.id}/status",
                {"version": version(db, pact.id), "status": "partly_achieved"}).status_code == 302
    assert current(db, pact.id).goals[0].status == ItemStatus.PARTLY_ACHIEVED

    response = post(client, pact.id, f"goals/{goal.id}/status", {"version": version(db, pact.id), "status": "won"})
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    assert post(client, pact.id, "actions/99999/status",
                {"version": version(db, pact.id), "status": "done"}).status_code == 404


def test_removing_what_was_entered_by_mistake(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia")
    post(client, pact.id, "goals", fields("goal", version=version(db, pact.id), description="sbagliato",
                                          need_area="", target_date=""))
    post(client, pact.id, "commitments", fields("commitment", version=version(db, pact.id), party="other",
                                                text="sbagliato"))
    goal, commitment = current(db, pact.id).goals[-1], current(db, pact.id).commitments[-1]
    assert post(client, pact.id, f"goals/{goal.id}/remove", {"version": version(db, pact.id)}).status_code == 302
    assert post(client, pact.id, f"commitments/{commitment.id}/remove",
                {"version": version(db, pact.id)}).status_code == 302
    pact = current(db, pact.id)
    assert "sbagliato" not in [g.description for g in pact.goals] + [c.text for c in pact.commitments]


# Signature and print --------------------------------------------------------------------------------

def co_designed(client, db, pact_id: int) -> None:
    for path, data in [
        ("goals", fields("goal", description="trovare lavoro", need_area="lavoro", target_date="2027-03-31")),
        ("actions", fields("action", description="iscrizione al centro per l'impiego", performer="beneficiary",
                           goal="", performer_detail="", due_on="")),
        ("commitments", fields("commitment", party="case_manager", text="cercare offerte adatte")),
    ]:
        prefix = next(iter(data)).split("-")[0]
        assert post(client, pact_id, path, {**data, f"{prefix}-version": version(db, pact_id)}).status_code == 302


def test_signature_needs_a_prepared_pact_and_consent(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia")
    response = post(client, pact.id, "revision", {"version": version(db, pact.id)})
    assert response.status_code == 422 and "The pact has no goal yet" in text(response)

    co_designed(client, db, pact.id)
    assert post(client, pact.id, "revision", {"version": version(db, pact.id)}).status_code == 302
    page = text(client.get(f"/pacts/{pact.id}"))
    assert "Waiting for signature." in page and f"/pacts/{pact.id}/print" in page

    response = post(client, pact.id, "signature", fields("signature", version=version(db, pact.id),
                                                         signed_on=today(), signed_by="Maria Bianchi"))
    assert response.status_code == 422
    assert 'id="signature-consent_given-error"' in text(response)
    assert "consent to data processing is required" in text(response)
    assert not current(db, pact.id).latest_revision.is_signed

    response = post(client, pact.id, "signature", fields("signature", version=version(db, pact.id),
                                                         signed_on=today(), signed_by="", consent_given="y"))
    assert response.status_code == 422 and 'id="signature-signed_by-error"' in text(response)

    response = post(client, pact.id, "signature", fields("signature", version=version(db, pact.id),
                                                         signed_on=today(), signed_by="Maria Bianchi, Giulia Rossi",
                                                         consent_given="y"))
    assert response.status_code == 302
    revision = current(db, pact.id).latest_revision
    assert revision.is_signed and revision.signed_by == "Maria Bianchi, Giulia Rossi" and revision.consent_given
    assert 'name="event" value="activate"' in text(client.get(f"/pacts/{pact.id}"))


def test_print_view(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia")
    response = client.get(f"/pacts/{pact.id}/print")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/pacts/{pact.id}#signature")
    assert access_rows(db, people.manager, "print") == []

    co_designed(client, db, pact.id)
    post(client, pact.id, "revision", {"version": version(db, pact.id)})
    response = client.get(f"/pacts/{pact.id}/print")
    assert response.status_code == 200
    sheet = text(response)
    assert static_url(app, "print.css") in sheet and 'class="it-header-wrapper"' not in sheet
    assert "Revision 1 of" in sheet and "Maria Bianchi" in sheet and "BNCMRA85D43I703I" in sheet
    assert "trovare lavoro" in sheet and "Work" in sheet and "31/03/2027" in sheet
    assert "iscrizione al centro per l'impiego" in sheet and "cercare offerte adatte" in sheet
    assert "Consent to the processing of personal data" in sheet and "Regulation (EU) 2016/679" in sheet
    assert sheet.count('class="signature-line"') == 3
    [row] = access_rows(db, people.manager, "print")
    assert (row.subject_type, row.subject_id, row.detail) == ("pact", pact.id, "revision 1")

    assert signed_in(app, "marco").get(f"/pacts/{pact.id}/print").status_code == 404


def test_the_supervisor_prints_a_pact_of_their_territory(app, db, people, registry):
    pact = reach(db, registry, people, "activation")  # signed: it has a revision
    client = signed_in(app, "elena")
    assert client.get(f"/pacts/{pact.id}/print").status_code == 200
    assert [row.subject_id for row in access_rows(db, people.supervisor, "print")] == [pact.id]


# Follow-up and outcome ---------------------------------------------------------------------------------

def test_contact_form_valid_and_invalid(app, db, people, registry, backdated):
    pact = reach(db, registry, people, "follow_up")
    client = signed_in(app, "giulia")
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    in_an_hour = datetime.now(timezone.utc) + timedelta(hours=1)
    response = post(client, pact.id, "contacts", fields(
        "contact", version=version(db, pact.id), contact_at=local_minute(in_an_hour), channel="phone",
        notes="sentita al telefono", next_contact_on=""))
    assert response.status_code == 422
    assert 'id="contact-contact_at-error"' in text(response) and "sentita al telefono" in text(response)

    yesterday = (datetime.now(ROME).date() - timedelta(days=1)).isoformat()
    response = post(client, pact.id, "contacts", fields(
        "contact", version=version(db, pact.id), contact_at=local_minute(an_hour_ago), channel="",
        notes="", next_contact_on=yesterday))
    assert response.status_code == 422 and 'id="contact-channel-error"' in text(response)
    assert current(db, pact.id).contacts == []

    response = post(client, pact.id, "contacts", fields(
        "contact", version=version(db, pact.id), contact_at=local_minute(an_hour_ago), channel="home_visit",
        notes="visita domiciliare", next_contact_on=""))
    assert response.status_code == 302
    [contact] = current(db, pact.id).contacts
    assert contact.channel.value == "home_visit"
    assert abs(contact.contact_at - an_hour_ago) < timedelta(minutes=1)  # Rome time in, UTC stored
    assert "Home visit" in text(client.get(f"/pacts/{pact.id}"))


def test_outcome_form_valid_and_invalid(app, db, people, registry):
    pact = reach(db, registry, people, "follow_up")
    client = signed_in(app, "giulia")
    response = post(client, pact.id, "outcome", fields("outcome", version=version(db, pact.id), outcome="",
                                                       notes="in attesa"))
    assert response.status_code == 422
    page = text(response)
    assert 'id="outcome-outcome-error"' in page and 'id="outcome-goals_achieved-error"' in page
    response = post(client, pact.id, "outcome", fields("outcome", version=version(db, pact.id),
                                                       outcome="won_the_lottery", goals_achieved="fully"))
    assert response.status_code == 422 and 'id="outcome-outcome-error"' in text(response)
    assert current(db, pact.id).outcome is None

    response = post(client, pact.id, "outcome", fields("outcome", version=version(db, pact.id),
                                                       outcome="work_entered", goals_achieved="partly",
                                                       notes="contratto a termine"))
    assert response.status_code == 302
    outcome = current(db, pact.id).outcome
    assert (outcome.outcome, outcome.goals_achieved.value, outcome.notes) == ("work_entered", "partly",
                                                                             "contratto a termine")
    page = text(client.get(f"/pacts/{pact.id}"))
    assert "Entered work" in page and 'name="event" value="close"' in page


# The whole way, through the forms ------------------------------------------------------------------------

def test_from_referral_to_closed_through_the_pages(app, db, people, registry, backdated):
    client = signed_in(app, "giulia")
    pact_id = people.pact.id

    def step(path: str, data: dict) -> None:
        response = post(client, pact_id, path, data)
        assert response.status_code == 302, text(response)

    def go(event: str) -> None:
        assert move(client, db, pact_id, event).status_code == 302
        assert current(db, pact_id).state == expected.pop(0)

    expected = ["screening", "co_design", "activation", "follow_up", "closed"]
    step("referral", fields("referral", version=version(db, pact_id), source="sportello",
                            reason="difficoltà economiche", referred_on=today()))
    go("start_screening")
    step("screening", {"screening-version": version(db, pact_id),
                       **screening_data(registry, current(db, pact_id))})
    go("start_co_design")
    co_designed(client, db, pact_id)
    step("revision", {"version": version(db, pact_id)})
    step("signature", fields("signature", version=version(db, pact_id), signed_on=today(),
                             signed_by="Maria Bianchi", consent_given="y"))
    go("activate")
    action = current(db, pact_id).actions[0]
    step(f"actions/{action.id}/status", {"version": version(db, pact_id), "status": "in_progress"})
    go("start_follow_up")
    step("contacts", fields("contact", version=version(db, pact_id),
                            contact_at=local_minute(datetime.now(timezone.utc) - timedelta(hours=1)),
                            channel="in_person", notes="tutto bene", next_contact_on=""))
    step("outcome", fields("outcome", version=version(db, pact_id), outcome="work_entered",
                           goals_achieved="fully", notes=""))
    go("close")

    pact = current(db, pact_id)
    assert pact.closed_at is not None and pact.next_deadline_at is None
    events = db.scalars(select(TransitionRecord.event).where(TransitionRecord.pact_id == pact_id)
                        .order_by(TransitionRecord.id)).all()
    assert events == ["open", "start_screening", "start_co_design", "activate", "start_follow_up", "close"]
    page = text(client.get(f"/pacts/{pact_id}"))
    assert "Closed" in page and "Entered work" in page
    assert 'name="event" value="reopen"' in page  # with its reason field


# Conflicts ----------------------------------------------------------------------------------------------

def test_two_people_saving_the_same_version_the_second_is_told_and_keeps_their_input(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    first, second = signed_in(app, "giulia"), signed_in(app, "giulia")  # two browsers, one page version
    read = version(db, pact.id)
    assert post(first, pact.id, "goals", fields("goal", version=read, description="obiettivo dal primo browser",
                                                need_area="", target_date="")).status_code == 302
    response = post(second, pact.id, "goals", fields("goal", version=read, description="obiettivo dal secondo browser",
                                                     need_area="casa", target_date=""))
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this pact while you were editing" in page
    assert "obiettivo dal secondo browser" in page  # the typed text, ready to save again
    assert "obiettivo dal primo browser" in page  # and the current data
    now = version(db, pact.id)
    assert f'id="goal-version" name="goal-version" type="hidden" value="{now}"' in page
    goals = [goal.description for goal in current(db, pact.id).goals]
    assert "obiettivo dal primo browser" in goals and "obiettivo dal secondo browser" not in goals

    # Saving again from the re-rendered form succeeds.
    assert post(second, pact.id, "goals", fields("goal", version=now, description="obiettivo dal secondo browser",
                                                 need_area="casa", target_date="")).status_code == 302


def test_a_move_on_a_stale_page_is_a_conflict_and_keeps_the_reason(app, db, people):
    first, second = signed_in(app, "giulia"), signed_in(app, "giulia")
    read = version(db, people.pact.id)
    assert post(first, people.pact.id, "referral", fields(
        "referral", version=read, source="self", reason="si è presentata allo sportello",
        referred_on=today())).status_code == 302
    response = move(second, db, people.pact.id, "withdraw", "non interessata", read_version=read,
                    reason="no_longer_interested")
    assert response.status_code == 409
    assert "Someone else changed this pact" in text(response) and "non interessata" in text(response)
    assert current(db, people.pact.id).state == "referral"


def test_a_form_without_its_version_is_refused(app, db, people):
    response = post(signed_in(app, "giulia"), people.pact.id, "referral", fields(
        "referral", source="school", reason="motivo", referred_on=today()))
    assert response.status_code == 422
    assert "reload the page" in text(response)
    assert current(db, people.pact.id).referral is None
