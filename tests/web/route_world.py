"""The world the route matrix asks about: one row of each kind for an ordinary pact and for a
restricted one, and the people who may or may not see them.

Built on tests/web/conftest.py's `people` (Giulia manages the TILDE pact of Maria Bianchi in the
Unione NET; Marco is her colleague; Elena supervises the Unione; Paolo supervises Lodi; an
administrator). Added here: Giulia's pact in the restricted programme (Ricomincio da me) of
another person, Sara (a case manager of the Unione with a restricted pact of her own, not
Giulia's), Luca (a case manager of Lodi); for each of the two pacts a goal, an action, a
commitment, a journal entry, a document of the pact and one of the person, a household
member, a notification to Giulia, a referral to a service and the person's consent to it; a
cover planned for later, a failed e-mail, an organisation and a service.

Each person's name, codice fiscale and the pact's texts are MARKERS: a page shown to someone
who may not see the pact must not contain any of them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from casework.models import (
    OFFICE_SETTINGS_ID,
    AbsenceCover,
    Beneficiary,
    ConsentLegalBasis,
    DataSharingConsent,
    DocumentKind,
    EmailStatus,
    Gender,
    HouseholdMember,
    JournalKind,
    Notification,
    NotificationKind,
    OfficeSettings,
    OutboundEmail,
    Pact,
    Performer,
    Relation,
    Role,
    User,
)
from casework.pacts import operations as ops
from casework.pacts.casefile import add_journal_entry
from casework.pacts.documents import documents_dir, store_document
from casework.reminders.calendar_feed import create_feed_token
from casework.services import propose_referral
from tests.conftest import ZONE
from tests.services.referral_helpers import make_service
from tests.web.conftest import People

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Target:
    """One pact and every row hanging from it: the ids the matrix fills a route's path with."""

    name: str
    pact: Pact
    beneficiary: Beneficiary
    ids: dict[str, object] = field(default_factory=dict)  # by path parameter's name, and a few more
    markers: tuple[str, ...] = ()


@dataclass
class RouteWorld:
    people: People
    users: dict[str, User]  # actor name -> account (the anonymous actor has none)
    targets: dict[str, Target]  # "ordinary", "restricted", "mixed"
    shared: dict[str, object]  # ids and values that do not depend on the pact
    # Markers of a pact no actor above is asked about, and who may see them: Sara's own
    # restricted pact (nobody else, not even the territory's supervisor).
    other_markers: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _person(first: str, last: str, code: str, comune_id: int, registrar: User) -> Beneficiary:
    return Beneficiary(first_name=first, last_name=last, gender=Gender.FEMALE, comune_id=comune_id,
                       codice_fiscale=code, birth_date=date(1984, 2, 9), created_by_id=registrar.id)


def _fill(app: Flask, db: Session, pact: Pact, name: str, service_id: int, now: datetime,
          recipient: User) -> Target:
    clock = ops.Clock(now, ZONE)
    person = pact.beneficiary
    goal = ops.add_goal(db, pact, description=f"Obiettivo riservato {name} Quercialunga", clock=clock)
    action = ops.add_action(db, pact, description=f"Azione {name}", performer=Performer.FAMILY, goal=goal,
                            clock=clock)
    commitment = ops.add_commitment(db, pact, party=Performer.FAMILY, text=f"Impegno {name}", clock=clock)
    journal = add_journal_entry(db, pact, kind=JournalKind.NOTE, at=now - timedelta(hours=1),
                                text=f"Diario segreto {name} Quercialunga", actor=pact.case_manager, now=now)
    storage = documents_dir(app.extensions["casework"]["settings"].instance_dir)
    pact_document = store_document(db, storage, io.BytesIO(PDF), file_name=f"relazione-{name}.pdf",
                                   kind=DocumentKind.OTHER, max_bytes=10_000_000, actor=pact.case_manager,
                                   now=now, pact=pact)
    person_document = store_document(db, storage, io.BytesIO(PDF), file_name=f"identita-{name}.pdf",
                                     kind=DocumentKind.OTHER, max_bytes=10_000_000, actor=pact.case_manager,
                                     now=now, beneficiary=person)
    member = HouseholdMember(beneficiary=person, first_name="Ottavina", last_name=person.last_name,
                             relation=Relation.CHILD, birth_date=date(2012, 5, 1))
    notification = Notification(user_id=recipient.id, kind=NotificationKind.REMINDER, pact_id=pact.id,
                                rule_id="screening_due", due_on=now.date(), created_at=now)
    db.add_all([member, notification])
    referral = propose_referral(db, pact.case_manager, pact, service_id, now=now, need_area="lavoro")
    consent = DataSharingConsent(beneficiary=person, organisation_id=referral.service.organisation_id,
                                 referral_id=referral.id, given_on=now.date(), purpose=f"Invio {name}",
                                 legal_basis=ConsentLegalBasis.CONSENT, collected_by_id=pact.case_manager_id,
                                 recorded_at=now)
    db.add(consent)
    db.flush()
    return Target(
        name=name, pact=pact, beneficiary=person,
        ids={"pact_id": pact.id, "beneficiary_id": person.id, "goal_id": goal.id, "action_id": action.id,
             "commitment_id": commitment.id, "journal_id": journal.id,
             # The ordinary pact's document, the restricted person's: both ways a file is scoped.
             "document_id": person_document.id if name == "riservato" else pact_document.id,
             "person_document_id": person_document.id, "member_id": member.id,
             "notification_id": notification.id, "referral_id": referral.id, "consent_id": consent.id,
             "programme_id": pact.programme_id, "name_start": person.last_name[:5], "pact_version": pact.version,
             "beneficiary_version": person.version},
        markers=(person.last_name, person.codice_fiscale or "", f"Diario segreto {name}",
                 f"relazione-{name}.pdf", f"identita-{name}.pdf", f"Obiettivo riservato {name}"),
    )


def build_route_world(app: Flask, db: Session, people: People) -> RouteWorld:
    now = datetime.now(UTC)
    registry = app.extensions["casework"]["registry"]
    clock = ops.Clock(now, ZONE)
    manager = db.get(User, people.manager.id)
    unione, lodi = manager.territory, db.get(User, people.other_supervisor.id).territory
    digest = manager.password_hash

    def account(username: str, territory) -> User:
        return User(username=username, full_name=username.title() + " Neri", email=f"{username}@example.org",
                    password_hash=digest, role=Role.CASE_MANAGER, territory=territory)

    stranger, outsider = account("sara", unione), account("luca", lodi)
    db.add_all([stranger, outsider])
    db.flush()
    comune_id = people.beneficiary.comune_id
    # Unique surnames: the markers must not match anything else on a page.
    ordinary_pact = db.get(Pact, people.pact.id)
    ordinary_pact.beneficiary.last_name = "Scarpabolla"
    hidden = _person("Ersilia", "Vendramotti", "VNDRSL84B49I703X", comune_id, manager)
    sara_person = _person("Livia", "Zoccolante", "ZCCLVI84B49I703Y", comune_id, stranger)
    db.add_all([hidden, sara_person])
    db.flush()
    restricted_pact = ops.open_pact(db, registry, beneficiary=hidden, programme=people.restricted,
                                    case_manager=manager, actor=manager, clock=clock)
    ops.open_pact(db, registry, beneficiary=sara_person, programme=people.restricted, case_manager=stranger,
                  actor=stranger, clock=clock)
    service = make_service(db, people.beneficiary.comune, now=now)
    # The directory's rows belong to the Unione: its supervisor keeps them, Lodi's does not.
    service.organisation.territory = unione
    comune = people.beneficiary.comune
    comune.public_board = True
    db.add(OfficeSettings(id=OFFICE_SETTINGS_ID, ente_name="Unione NET", logo=PNG, logo_type="image/png"))
    targets = {
        "ordinary": _fill(app, db, ordinary_pact, "ordinario", service.id, now, manager),
        "restricted": _fill(app, db, restricted_pact, "riservato", service.id, now, manager),
    }
    # The ordinary pact (and its person) in the path, with the restricted pact's rows below it: a
    # goal, a referral, a household member... of another pact reached through one the user sees.
    # Accounts: Giulia's with the ordinary pact's ids; with the restricted one's, the Unione's
    # supervisor's own (only an administrator manages a supervisor's account).
    targets["ordinary"].ids["user_id"] = manager.id
    targets["restricted"].ids["user_id"] = people.supervisor.id
    restricted_ids = targets["restricted"].ids
    targets["mixed"] = Target(name="mixed", pact=ordinary_pact, beneficiary=ordinary_pact.beneficiary, ids={
        **restricted_ids, **{name: targets["ordinary"].ids[name]
                             for name in ("pact_id", "beneficiary_id", "pact_version", "beneficiary_version")}})
    # Planned for next month: a cover in force would let Marco see Giulia's pacts.
    starts = now + timedelta(days=30)
    cover = AbsenceCover(absent_user_id=manager.id, covering_user_id=people.colleague.id,
                         starts_on=starts.date(), ends_on=(starts + timedelta(days=7)).date(), starts_at=starts,
                         ends_at=starts + timedelta(days=7), reason="ferie", created_by_id=people.supervisor.id,
                         created_at=now)
    failed = OutboundEmail(dedupe_key="matrix-failed", kind="reminder", recipient_id=manager.id,
                           to_address=manager.email, subject="Promemoria", body="Promemoria", created_at=now,
                           status=EmailStatus.FAILED, attempts=5, next_attempt_at=now)
    db.add_all([cover, failed])
    feed_token = create_feed_token(db, manager, now=now)
    db.commit()
    users = {"admin": people.admin, "supervisor": people.supervisor, "other_supervisor": people.other_supervisor,
             "manager": people.manager, "colleague": people.colleague, "outsider": outsider,
             "stranger": stranger}
    shared = {"user_id": manager.id, "supervisor_id": people.supervisor.id, "territory_id": comune.id, "service_id": service.id,
              "organisation_id": service.organisation_id, "cover_id": cover.id, "email_id": failed.id,
              "feed_token": feed_token, "unione_id": unione.id,
              "outsider_id": outsider.id}
    return RouteWorld(people=people, users=users, targets=targets, shared=shared,
                      other_markers={"stranger": (sara_person.last_name, sara_person.codice_fiscale or "")})
