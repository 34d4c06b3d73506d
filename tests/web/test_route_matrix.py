"""Every route of the app × every kind of user, with real ids that belong to others.

The test reads the app's URL map: a route missing from ROUTES below fails it, so every new
route must say who may reach it. Each route is asked, with the ids of an ordinary pact and of a
restricted one (tests/web/route_world.py), by: nobody signed in, an administrator, the
supervisor of the pacts' territory, the supervisor of another territory, the pacts' case
manager, a colleague of the same territory not on the pacts, a case manager of another
territory, and a case manager who works on another pact of the restricted programme.

Who may not reach a route gets the sign-in page (nobody signed in) or 403/404 (everyone
else), and the answer holds none of the pacts' markers (the person's name and codice fiscale,
the journal's text, the documents' names, the goal). A POST is sent with a valid CSRF token,
and the database holds exactly the same rows afterwards (read-only logs aside). Who may reach
a route gets neither a 403/404 nor a 500 on GET (the proof the ids are real); their POSTs are
the forms' own tests' business (they would change the world under the next cells).

Pages a role may open but whose data are scoped (lists, search, indicators, exports) are asked
too, with searches and filters naming others' people and programmes (QUERIES): their answer to
whoever may not see a pact holds none of its markers, and no redirect leads to its page. Forms
whose target is in their fields (a reassignment, a cover, a new programme or account) are sent
by whoever reaches them, naming others' rows (FORMS): nothing changes. And a path naming a pact
or person the user sees, with a goal, action, referral or household member of ANOTHER pact below
it ("mixed"), is refused to everyone, the case manager of both included.

Spreadsheets are read cell by cell; PDF files and images are only judged by their status.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text

from casework.models import Base
from tests.web.conftest import CSRF, People, sign_in
from tests.web.route_world import RouteWorld, build_route_world

ACTORS = ("anonymous", "admin", "supervisor", "other_supervisor", "manager", "colleague", "outsider", "stranger")
SIGNED_IN = frozenset(ACTORS) - {"anonymous"}
SUPERVISORS = frozenset({"supervisor", "other_supervisor"})
CASE_MANAGERS = frozenset({"manager", "colleague", "outsider", "stranger"})

# Who sees each pact's data: its case manager; the territory's supervisor unless restricted.
ENTITLED = {"ordinary": frozenset({"manager", "supervisor"}), "restricted": frozenset({"manager"}),
            "mixed": frozenset()}  # (it has no markers of its own: they are the restricted pact's)
# A path naming a pact or person and, below it, a row of another pact: nobody reaches that.
PARENTS = frozenset({"pact_id", "beneficiary_id"})


@dataclass(frozen=True)
class Access:
    """Who may reach a route, for the ordinary pact's ids and for the restricted pact's."""

    ordinary: frozenset[str]
    restricted: frozenset[str]
    about: str = ""
    # Refused to everyone alike, signed in or not (a 404, not the sign-in page).
    refused_alike: bool = False
    # Actors who may reach the route but whose POST names rows that are not theirs (in its
    # form, see FORMS): it is sent, and must change nothing.
    probed: frozenset[str] = frozenset()
    probed_restricted: frozenset[str] | None = None  # when not the same
    # Refused signed-in users are sent to their start page instead of a 403 (a step of signing in).
    sent_home: bool = False

    def probes(self, actor: str, target: str) -> bool:
        restricted = self.probed if self.probed_restricted is None else self.probed_restricted
        return actor in (self.probed if target == "ordinary" else restricted)

    def allowed(self, actor: str, target: str) -> bool:
        if target == "mixed":
            return False
        return actor in (self.ordinary if target == "ordinary" else self.restricted)


def _same(actors: frozenset[str], about: str) -> Access:
    return Access(actors, actors, about)


PUBLIC = _same(frozenset(ACTORS), "anyone, signed in or not")
# Capability links (calendar feed, invitation, password reset): the secret in the address is
# the credential, whoever holds it. Asked with a token nobody was given: everyone, signed in or
# not, gets the same 404 (their own tests use real tokens).
CAPABILITY = Access(frozenset(), frozenset(), "anyone holding the secret link", refused_alike=True)
SIGNED_IN_ONLY = _same(SIGNED_IN, "every signed-in user, about themselves or scoped data")
ADMIN_ONLY = _same(frozenset({"admin"}), "administrators")
ACCOUNT_MANAGERS = _same(frozenset({"admin"}) | SUPERVISORS, "administrators and supervisors (scoped lists)")
ADMIN_OR_SUPERVISOR_OF_TERRITORY = _same(frozenset({"admin", "supervisor"}),
                                         "administrators and the supervisor of the row's territory")
# An account: Giulia's (a case manager of the Unione) with the ordinary pact's ids, the Unione's
# supervisor's with the restricted pact's (an administrator's business alone).
ACCOUNT = Access(frozenset({"admin", "supervisor"}), frozenset({"admin"}), "administrators, and the supervisor "
                 "of a case manager's territory")
SUPERVISOR = _same(SUPERVISORS, "supervisors (data scoped to their territory)")
# A supervisor's form naming rows of the territory (pacts, case managers, a territory): the
# other territory's supervisor reaches the form, and their POST naming those rows changes nothing.
SUPERVISOR_SCOPED_FORM = Access(SUPERVISORS, SUPERVISORS, "supervisors, for rows of their territory",
                                probed=frozenset({"other_supervisor"}))
ACCOUNT_MANAGERS_SCOPED_FORM = Access(frozenset({"admin"}) | SUPERVISORS, frozenset({"admin"}) | SUPERVISORS,
                                      "administrators and supervisors, for rows of their territory",
                                      probed=frozenset({"other_supervisor"}))
# The other territory's supervisor may not hand over the Unione's pacts; the Unione's may not hand
# over a restricted pact they are not assigned to.
REASSIGNMENT = Access(SUPERVISORS, SUPERVISORS, "supervisors, for the pacts they see",
                      probed=frozenset({"other_supervisor"}), probed_restricted=SUPERVISORS)
# About one's own rows only: whoever else sends it leaves the pacts' case manager's rows alone.
OWN_ROWS = Access(SIGNED_IN, SIGNED_IN, "every signed-in user, about their own rows",
                  probed=SIGNED_IN - {"manager"})
SUPERVISOR_OF_TERRITORY = _same(frozenset({"supervisor"}), "the supervisor of the object's territory")
PEOPLE_WORKERS = _same(CASE_MANAGERS | SUPERVISORS, "case managers and supervisors (scoped lists)")
# The pact's people: its case manager, and the territory's supervisor unless it is restricted.
PACT_TEAM = Access(ENTITLED["ordinary"], ENTITLED["restricted"], "who sees the pact or person")
CASE_MANAGER_OF_RECORD = Access(frozenset({"manager"}), frozenset({"manager"}), "the pact's case manager")
# A supervisor's decision on a pact: the territory's supervisor, never on a restricted pact.
PACT_SUPERVISOR = Access(frozenset({"supervisor"}), frozenset(), "the supervisor of an unrestricted pact")
# A person's access history: administrators (without case data) and the person's case managers.
ACCESS_HISTORY = _same(frozenset({"admin", "manager"}), "administrators and the person's case manager")
RECIPIENT = Access(frozenset({"manager"}), frozenset({"manager"}), "the notification's recipient")
# The second step of signing in: only after the password step, in the same browser; anyone else
# is sent back to the first step.
PASSWORD_STEP_FIRST = Access(frozenset(), frozenset(), "whoever has just given the right password", sent_home=True)
# Erasing a person: a supervisor who sees them (never a restricted case's person they are not on).
ERASER = Access(frozenset({"supervisor"}), frozenset(), "the supervisor who sees the person")

ROUTES: dict[str, Access] = {
    # Signing in, health, public pages.
    "auth.login": PUBLIC,
    "auth.language": PUBLIC,
    "health.health": PUBLIC,
    "health.ready": PUBLIC,
    "favicon": PUBLIC,
    "passwords.forgotten": PUBLIC,
    "passwords.invitation": CAPABILITY,
    "passwords.reset": CAPABILITY,
    "calendar.feed": CAPABILITY,
    "public_board.board": PUBLIC,
    "public_board.service": PUBLIC,
    # One's own account, day and notifications.
    "auth.logout": SIGNED_IN_ONLY,
    "account.index": SIGNED_IN_ONLY,
    "account.password": SIGNED_IN_ONLY,
    "account.preferences": SIGNED_IN_ONLY,
    "account.end_other_sessions": SIGNED_IN_ONLY,
    "calendar.index": SIGNED_IN_ONLY,
    "calendar.create": SIGNED_IN_ONLY,
    "calendar.revoke": SIGNED_IN_ONLY,
    "notifications.index": SIGNED_IN_ONLY,
    "notifications.mark_all_done": OWN_ROWS,
    "notifications.mark_done": RECIPIENT,
    "notifications.snooze": RECIPIENT,
    "office.logo": SIGNED_IN_ONLY,
    "home.today": SIGNED_IN_ONLY,
    "home.next_overdue": SIGNED_IN_ONLY,
    "home.quick_contact": CASE_MANAGER_OF_RECORD,
    "home.snooze": CASE_MANAGER_OF_RECORD,
    # The services directory.
    "services.index": SIGNED_IN_ONLY,
    "services.show": SIGNED_IN_ONLY,
    "services_manage.index": ACCOUNT_MANAGERS,
    "services_manage.export": ACCOUNT_MANAGERS,
    "services_manage.new": ACCOUNT_MANAGERS,
    "services_manage.edit": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "services_manage.deactivate": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "services_manage.reactivate": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "services_manage.checked": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "services_manage.history": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "services_manage.import_file": ACCOUNT_MANAGERS,
    "services_manage.confirm_import": ACCOUNT_MANAGERS,
    # Administration.
    "admin.failed_mail": ADMIN_ONLY,
    "admin.retry": ADMIN_ONLY,
    "admin_log.index": ADMIN_ONLY,
    "office.edit": ADMIN_ONLY,
    "territories.index": ADMIN_ONLY,
    "territories.new": ADMIN_ONLY,
    "territories.new_comune": ADMIN_ONLY,
    "territories.edit": ADMIN_ONLY,
    "territories.holidays": ADMIN_ONLY,
    "territories.delete": ADMIN_ONLY,
    "users.index": ACCOUNT_MANAGERS,
    "users.new": ACCOUNT_MANAGERS_SCOPED_FORM,
    "users.edit": ACCOUNT,
    "users.deactivate": ACCOUNT,
    "users.reactivate": ACCOUNT,
    "users.password_link": ACCOUNT,
    "organisations.index": ACCOUNT_MANAGERS,
    "organisations.new": ACCOUNT_MANAGERS,
    "organisations.edit": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    "organisations.set_active": ADMIN_OR_SUPERVISOR_OF_TERRITORY,
    # Supervision and reporting.
    "approvals.index": SUPERVISOR,
    "approvals.approve": PACT_SUPERVISOR,
    "approvals.send_back": PACT_SUPERVISOR,
    "caseload.index": SUPERVISOR,
    "caseload.pacts": SUPERVISOR,
    "caseload.reassign": REASSIGNMENT,
    "caseload_import.index": SUPERVISOR,
    "caseload_import.template": SUPERVISOR,
    "caseload_import.check": SUPERVISOR,
    "caseload_import.confirm": SUPERVISOR,
    "covers.index": SUPERVISOR,
    "covers.new": SUPERVISOR_SCOPED_FORM,
    "covers.end": SUPERVISOR_OF_TERRITORY,
    "programmes.index": SUPERVISOR,
    "programmes.new": SUPERVISOR_SCOPED_FORM,
    "programmes.edit": SUPERVISOR_OF_TERRITORY,
    "programmes.history": SUPERVISOR_OF_TERRITORY,
    "indicators.index": SUPERVISOR,
    "indicators.report": SUPERVISOR,
    "exports.index": SUPERVISOR,
    "exports.dataset_fields": SUPERVISOR,
    "exports.pacts": SUPERVISOR,
    "exports.pseudonymised": SUPERVISOR,
    "exports.indicators_xlsx": SUPERVISOR,
    "exports.indicator_csv": SUPERVISOR,
    "service_mapping.index": SUPERVISOR,
    "service_mapping.tables_xlsx": SUPERVISOR,
    "service_mapping.table_csv": SUPERVISOR,
    # People.
    "beneficiaries.index": PEOPLE_WORKERS,
    "beneficiaries.new": PEOPLE_WORKERS,
    "search.results": PEOPLE_WORKERS,
    "search.suggestions": PEOPLE_WORKERS,
    "beneficiaries.show": PACT_TEAM,
    "beneficiaries.edit": PACT_TEAM,
    "beneficiaries.history": PACT_TEAM,
    "beneficiaries.add_member": PACT_TEAM,
    "beneficiaries.remove_member": PACT_TEAM,
    "beneficiaries.open_pact": PACT_TEAM,
    "beneficiaries.withdraw_consent": PACT_TEAM,
    "casefile.beneficiary_documents": PACT_TEAM,
    "subject_access.copy": PACT_TEAM,
    "access_history.show": ACCESS_HISTORY,
    "erasure.erase": ERASER,
    "restriction.restrict": PACT_TEAM,
    "restriction.lift": ERASER,
    # The second step of signing in (it needs the password step first: otherwise back to /login),
    # and one's own second factor.
    "second_factor.code": PASSWORD_STEP_FIRST,
    "second_factor.enrol": SIGNED_IN_ONLY,
    "second_factor.disable": SIGNED_IN_ONLY,
    "erasure.due": SUPERVISOR,
    "casefile.upload_beneficiary_document": PACT_TEAM,
    # The pact.
    "pacts.show": PACT_TEAM,
    "pacts.print_view": PACT_TEAM,
    "pacts.move_page": PACT_TEAM,
    "pacts.transition": PACT_TEAM,
    "pacts.referral": PACT_TEAM,
    "pacts.screening": PACT_TEAM,
    "pacts.add_goal": PACT_TEAM,
    "pacts.add_action": PACT_TEAM,
    "pacts.add_commitment": PACT_TEAM,
    "pacts.goal_status": PACT_TEAM,
    "pacts.action_status": PACT_TEAM,
    "pacts.remove_goal": PACT_TEAM,
    "pacts.remove_action": PACT_TEAM,
    "pacts.remove_commitment": PACT_TEAM,
    "pacts.prepare_revision": PACT_TEAM,
    "pacts.signature": PACT_TEAM,
    "pacts.contact": PACT_TEAM,
    "pacts.outcome": PACT_TEAM,
    "pact_pdf.download": PACT_TEAM,
    "goals.edit_goal": PACT_TEAM,
    "goals.edit_action": PACT_TEAM,
    "casefile.timeline_page": PACT_TEAM,
    "casefile.workflow_diagram": PACT_TEAM,
    "casefile.add_journal_entry": PACT_TEAM,
    "casefile.add_member": PACT_TEAM,
    "casefile.remove_member": PACT_TEAM,
    "casefile.upload_pact_document": PACT_TEAM,
    "casefile.download_document": PACT_TEAM,
    "service_referrals.propose": PACT_TEAM,
    "service_referrals.step": PACT_TEAM,
    "service_referrals.consent": PACT_TEAM,
    "service_referrals.withdraw": PACT_TEAM,
    "service_referrals.contact": PACT_TEAM,
    "service_referrals.link": PACT_TEAM,
}

# Not asked: our own static files and the front-end packages' files (no data, no ids).
SKIPPED = frozenset({"static", "assets.bootstrap_italia"})

# Path parameters by name: ids of the pact being asked about (see route_world.Target.ids),
# else of the world; a few names mean different things on different routes.
PARAMETERS_BY_ENDPOINT = {
    ("exports.indicator_csv", "key"): "outcomes",
    ("service_mapping.table_csv", "key"): "outcomes",
    ("calendar.feed", "token"): "a-feed-token-nobody-was-given",
    ("passwords.invitation", "token"): "an-invitation-nobody-was-sent",
    ("passwords.reset", "token"): "a-reset-link-nobody-was-sent",
}
CONSTANT_PARAMETERS = {"fmt": "csv", "kind": "csv", "event": "request", "event_name": "start_screening"}
# Form fields that name another's rows, for the POSTs whose target is in the form, not the path.
FORMS = {
    # To a case manager the sender may choose (the other territory's supervisor: one of theirs),
    # so that only the pact or the absent colleague of others is what is wrong with the form.
    "caseload.reassign": lambda ids, shared, actor: {
        "reassign-pacts": f"{ids['pact_id']}:{ids['pact_version']}",
        "reassign-to_manager": str(_own_case_manager(shared, actor)), "reassign-reason": "riorganizzazione"},
    "covers.new": lambda ids, shared, actor: {
        "absent_user_id": str(shared["user_id"]), "covering_user_id": str(_own_case_manager(shared, actor)),
        "starts_on": "01/06/2027", "ends_on": "05/06/2027", "reason": "ferie"},
    "programmes.new": lambda ids, shared, actor: {
        "code": "NUOVO", "name": "Nuovo programma", "funder": "Regione", "territory_id": str(shared["unione_id"]),
        "starts_on": "01/01/2027", "workflow_name": "patto_personalizzato", "no_contact_days": "30"},
    "users.new": lambda ids, shared, actor: {
        "full_name": "Sara Verdi", "username": "sara.verdi", "email": "sara.verdi@example.org",
        "role": "case_manager", "territory_id": str(shared["unione_id"]), "organisation_id": ""},
    "casefile.remove_member": lambda ids, shared, actor: {"user_id": str(shared["colleague_id"])},
}


def _version(rule, ids: dict[str, object]) -> dict[str, str]:
    """The version a form of the pact or person carries: past the version check, the POST meets
    the access check itself (or the check of the row below the pact)."""
    if "pact_id" in rule.arguments:
        return {"version": str(ids["pact_version"])}
    if "beneficiary_id" in rule.arguments:
        return {"version": str(ids["beneficiary_version"])}
    return {}


def _own_case_manager(shared: dict[str, object], actor: str) -> object:
    return shared["outsider_id"] if actor == "other_supervisor" else shared["colleague_id"]


# Query strings naming others' rows, for the pages whose filter or search is the way in (a search
# types the start of the surname: the whole surname on the answer is a find).
QUERIES = {
    "search.results": lambda ids, shared: {"q": ids["name_start"]},
    "search.suggestions": lambda ids, shared: {"q": ids["name_start"]},
    "beneficiaries.index": lambda ids, shared: {"q": ids["name_start"]},
    "home.today": lambda ids, shared: {"q": ids["name_start"]},
    "caseload.index": lambda ids, shared: {"programme": ids["programme_id"]},
    "caseload.pacts": lambda ids, shared: {"programme": ids["programme_id"], "manager": shared["user_id"]},
    "indicators.index": lambda ids, shared: {"programme": ids["programme_id"], "territory": shared["unione_id"]},
    "indicators.report": lambda ids, shared: {"programme": ids["programme_id"], "territory": shared["unione_id"]},
    "exports.pacts": lambda ids, shared: {"programme": ids["programme_id"]},
    "exports.pseudonymised": lambda ids, shared: {"programme": ids["programme_id"]},
    "exports.indicator_csv": lambda ids, shared: {"programme": ids["programme_id"]},
    "service_mapping.index": lambda ids, shared: {"territory": shared["unione_id"]},
}
# Tables a refused request may write: who asked for what (reads are logged), their session,
# sign-in attempts.
LOGS = frozenset({"access_log_entry", "administrative_log_entry", "user_session", "login_attempt",
                  "data_version", "deadline_refresh", "scheduler_lock"})
# Answers that are right although they are not a page: the readiness probe says 503 on a schema
# made without Alembic (the tests' schema), to everyone alike.
OTHER_ANSWERS = {"health.ready": {503}}
PARAMETER = re.compile(r"<(?:[^<>]*:)?(\w+)>")
TEXT_TYPES = ("text/", "application/json", "image/svg+xml")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


@pytest.fixture
def route_world(app: Flask, db, people: People) -> RouteWorld:
    world = build_route_world(app, db, people)
    world.shared["colleague_id"] = people.colleague.id
    return world


def _rules(app: Flask) -> Iterator:
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in SKIPPED:
            yield rule


def unclassified(app: Flask) -> list[str]:
    """What is wrong with ROUTES for this app: each route of its URL map not in it, and each
    entry naming a route that no longer exists."""
    endpoints = {rule.endpoint for rule in _rules(app)}
    return [f"classify the new route {endpoint} in tests/web/test_route_matrix.py"
            for endpoint in sorted(endpoints - ROUTES.keys())] + [
        f"the route {endpoint} classified in tests/web/test_route_matrix.py no longer exists"
        for endpoint in sorted(ROUTES.keys() - endpoints)]


def unfillable(app: Flask, world: RouteWorld) -> list[str]:
    """The routes whose path has a parameter the matrix cannot fill, with the reason."""
    problems = []
    for rule in _rules(app):
        try:
            _path(rule, world.targets["ordinary"].ids, world.shared)
        except AssertionError as error:
            problems.append(str(error))
    return problems


def test_every_route_is_classified_and_filled(app: Flask, route_world: RouteWorld):
    assert not unclassified(app), "\n".join(unclassified(app))
    assert not unfillable(app, route_world), "\n".join(unfillable(app, route_world))


def test_a_new_route_fails_the_matrix_until_it_is_classified(app: Flask, route_world: RouteWorld):
    app.add_url_rule("/prova/<int:gadget_id>", "prova.gadget", lambda gadget_id: "segreto")
    assert unclassified(app) == ["classify the new route prova.gadget in tests/web/test_route_matrix.py"]
    assert unfillable(app, route_world) == [(
        "the route prova.gadget (/prova/<int:gadget_id>) has a parameter 'gadget_id' the route matrix cannot fill: "
        "add it to tests/web/route_world.py or to PARAMETERS_BY_ENDPOINT")]


def _path(rule, target_ids: dict[str, int], shared: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        for source in (PARAMETERS_BY_ENDPOINT.get((rule.endpoint, name)), CONSTANT_PARAMETERS.get(name),
                       target_ids.get(name), shared.get(name)):
            if source is not None:
                return str(source)
        raise AssertionError(f"the route {rule.endpoint} ({rule.rule}) has a parameter '{name}' the route "
                             f"matrix cannot fill: add it to tests/web/route_world.py or to PARAMETERS_BY_ENDPOINT")

    return PARAMETER.sub(value, rule.rule)


def _client(app: Flask, actor: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    if actor != "anonymous":
        assert sign_in(client, actor_username(actor)).status_code == 302, f"{actor} cannot sign in"
    page = client.get("/account" if actor != "anonymous" else "/login").get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token for {actor}"
    return client, match.group(1)


USERNAMES = {"admin": "admin", "supervisor": "elena", "other_supervisor": "paolo", "manager": "giulia",
             "colleague": "marco", "outsider": "luca", "stranger": "sara"}


def actor_username(actor: str) -> str:
    return USERNAMES[actor]


def _snapshot(engine: Engine) -> dict[str, object]:
    """Every row of every table but the logs: each table's rows, or on PostgreSQL a digest of them
    (one query instead of one a table: the matrix takes a snapshot after each refused POST)."""
    tables = [table for table in Base.metadata.sorted_tables if table.name not in LOGS]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            digests = ", ".join(
                f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table.name}\" t)"
                for table in tables)
            row = connection.execute(text(f"SELECT {digests}")).one()
            return dict(zip([table.name for table in tables], row, strict=True))
        return {table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
                for table in tables}


def _changes(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _markers_shown(body: str, actor: str, world: RouteWorld) -> list[str]:
    lowered = body.lower()
    hidden = [marker for name, target in world.targets.items() if actor not in ENTITLED[name]
              for marker in target.markers]
    hidden += [marker for owner, markers in world.other_markers.items() if actor != owner for marker in markers]
    return [marker for marker in hidden if marker and marker.lower() in lowered]


def _readable(answer) -> str:
    """The text of an answer: a page, CSV, JSON, SVG, or the cells of a spreadsheet."""
    content_type = answer.headers.get("Content-Type", "")
    if content_type.startswith(TEXT_TYPES):
        return answer.get_data(as_text=True)
    if content_type.startswith(XLSX):
        with zipfile.ZipFile(io.BytesIO(answer.get_data())) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist()
                             if name.endswith(".xml"))
    return ""


def _pages_named(location: str, actor: str, world: RouteWorld) -> list[str]:
    """The pacts and people of others a redirect leads to (the sign-in page's `next` aside)."""
    if not location or "/login" in location:
        return []
    path = urlsplit(location).path
    return [path for name, target in world.targets.items() if name != "mixed" and actor not in ENTITLED[name]
            and re.search(rf"/(pacts/{target.ids['pact_id']}|beneficiaries/{target.ids['beneficiary_id']})(/|$)",
                          path)]


def run_matrix(app: Flask, world: RouteWorld, methods: set[str]) -> tuple[list[str], int]:
    """Ask every route with `methods` as every actor; the problems found, and how many requests."""
    engine = app.extensions["casework"]["engine"]
    problems: list[str] = []
    asked = 0
    for actor in ACTORS:
        client, token = _client(app, actor)
        state = _snapshot(engine)
        for rule in sorted(_rules(app), key=lambda rule: (rule.endpoint, rule.rule)):
            access = ROUTES[rule.endpoint]
            takes_ids = rule.endpoint in QUERIES or rule.endpoint in FORMS or any(
                name in world.targets["ordinary"].ids or name.endswith("_id") for name in rule.arguments)
            mixed = PARENTS & rule.arguments and any(name.endswith("_id") for name in rule.arguments - PARENTS)
            names = ("ordinary", "restricted", "mixed") if mixed else ("ordinary", "restricted")
            for target_name in names if takes_ids else ("ordinary",):
                target = world.targets[target_name]
                path = _path(rule, target.ids, world.shared)
                allowed = access.allowed(actor, target_name)
                for method in sorted((rule.methods or set()) & methods):
                    if method == "POST" and allowed and not access.probes(actor, target_name):
                        continue
                    query = QUERIES.get(rule.endpoint, lambda ids, shared: {})(target.ids, world.shared)
                    where = f"{method} {path}{'?' if query else ''}{urlencode(query)} [{rule.endpoint}] as {actor} " \
                            f"({target_name} pact)"
                    if method == "GET":
                        answer = client.get(path, query_string=query)
                    else:
                        form = (FORMS[rule.endpoint](target.ids, world.shared, actor) if rule.endpoint in FORMS
                                else _version(rule, target.ids))
                        answer = client.post(path, data={**form, "csrf_token": token})
                    asked += 1
                    status, location = answer.status_code, answer.headers.get("Location", "")
                    body = _readable(answer)
                    if status in OTHER_ANSWERS.get(rule.endpoint, ()):
                        pass
                    elif status >= 500:
                        problems.append(f"{where}: {status}")
                    elif method == "POST" and access.probes(actor, target_name):
                        pass  # allowed in: judged by what it changed, below
                    elif not allowed:
                        if actor == "anonymous" and not access.refused_alike:
                            if status != 302 or "/login" not in location:
                                problems.append(f"{where}: {status} {location}, expected the sign-in page")
                        elif status == 302 and access.sent_home and urlsplit(location).path == "/":
                            pass  # sent back to their own start page: nothing of anyone's shown
                        elif status not in (403, 404):
                            problems.append(f"{where}: {status} {location}, expected 403 or 404")
                    elif method == "GET" and (status in (401, 403, 404) or "/login" in location):
                        problems.append(f"{where}: {status} {location}, expected the page (are the ids real?)")
                    led_to = _pages_named(location, actor, world)
                    if led_to:
                        problems.append(f"{where}: {status} leads to {led_to}")
                    shown = _markers_shown(body, actor, world)
                    if shown:
                        problems.append(f"{where}: {status} shows {shown}")
                    if method == "POST":
                        after = _snapshot(engine)
                        changed = _changes(state, after)
                        if changed:
                            problems.append(f"{where}: {status} changed {changed}")
                        state = after
        if "POST" not in methods:
            # A GET only reads (its access-log line aside), whoever sends it.
            changed = _changes(state, _snapshot(engine))
            if changed:
                problems.append(f"GETs as {actor} changed {changed}")
    return problems, asked


@pytest.mark.parametrize("methods", [pytest.param({"GET"}, id="GET"), pytest.param({"POST"}, id="POST")])
def test_route_matrix(app: Flask, route_world: RouteWorld, methods: set[str]):
    started = time.monotonic()
    problems, asked = run_matrix(app, route_world, methods)
    print(f"route matrix {sorted(methods)}: {asked} requests in {time.monotonic() - started:.1f} s")
    assert not problems, f"{len(problems)} of {asked} answers wrong:\n" + "\n".join(problems)


def test_the_markers_are_on_the_pages_of_who_may_see_them(app: Flask, route_world: RouteWorld):
    """A refused or scoped page holding no marker means something only if the permitted one
    shows them: the pact, the person, the timeline, and the lists the matrix reads for others
    (search, notifications, Oggi, a service's referrals, the supervisor's lists and exports)."""
    service = route_world.shared["service_id"]
    client, _ = _client(app, "manager")
    for target in (route_world.targets["ordinary"], route_world.targets["restricted"]):
        pages = "".join(_readable(client.get(url)) for url in (
            f"/pacts/{target.ids['pact_id']}", f"/beneficiaries/{target.ids['beneficiary_id']}",
            f"/pacts/{target.ids['pact_id']}/timeline"))
        assert [marker for marker in target.markers if marker in pages] == list(target.markers)
        for url in (f"/cerca?q={target.ids['name_start']}", f"/cerca/suggerimenti?q={target.ids['name_start']}",
                    f"/beneficiaries?q={target.ids['name_start']}", "/notifications", "/", f"/servizi/{service}"):
            assert target.beneficiary.last_name in _readable(client.get(url)), url
    supervisor, _ = _client(app, "supervisor")
    for url in ("/caseload/pacts", "/exports/pacts.csv", "/exports/pacts.xlsx", f"/servizi/{service}",
                f"/cerca?q={route_world.targets['ordinary'].ids['name_start']}"):
        assert route_world.targets["ordinary"].beneficiary.last_name in _readable(supervisor.get(url)), url


def test_the_snapshot_sees_a_change(app: Flask, route_world: RouteWorld):
    """A refused POST changing nothing means something only if a permitted one is seen."""
    engine = app.extensions["casework"]["engine"]
    client, token = _client(app, "manager")
    before = _snapshot(engine)
    answer = client.post(f"/notifications/{route_world.targets['ordinary'].ids['notification_id']}/done",
                         data={"csrf_token": token})
    assert answer.status_code in (302, 303)
    assert _changes(before, _snapshot(engine)) == ["notification"]


@pytest.mark.parametrize("endpoint", ["caseload.reassign", "covers.new", "programmes.new", "users.new"])
def test_the_probing_forms_are_accepted_from_the_territory_s_supervisor(
        app: Flask, route_world: RouteWorld, endpoint: str):
    """The other territory's supervisor's POSTs above change nothing because of whose rows they
    name, not because the form is wrong: the same form from the Unione's supervisor is saved."""
    engine = app.extensions["casework"]["engine"]
    client, token = _client(app, "supervisor")
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    form = FORMS[endpoint](route_world.targets["ordinary"].ids, route_world.shared, "supervisor")
    before = _snapshot(engine)
    answer = client.post(_path(rule, route_world.targets["ordinary"].ids, route_world.shared),
                         data={**form, "csrf_token": token})
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[-3000:]
    assert _changes(before, _snapshot(engine))


def test_a_real_feed_token_opens_the_feed(app: Flask, route_world: RouteWorld):
    """The made-up token's 404 above is the token's doing: Giulia's real one opens her feed."""
    answer = app.test_client().get(f"/calendar/{route_world.shared['feed_token']}.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/calendar")
