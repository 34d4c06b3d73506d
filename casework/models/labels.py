"""The words for the models' codes (gender, referral source, contact channel, priority, who does
an action, the statuses of goals and actions): one
definition, shown by the forms, the pages and the exports alike.

Each word is a message of the translation catalogue (casework.i18n), translated where it is
shown. Written to stand alone ("Home visit"); inside a sentence a page uses it in lower case.
"""

from __future__ import annotations

from casework.i18n import N_, Message
from casework.models.beneficiary import Gender, Relation
from casework.models.casefile import DocumentKind, JournalKind
from casework.models.pact import (
    ActionStatus,
    ContactChannel,
    GoalsAchieved,
    ItemStatus,
    Performer,
    Priority,
    ReferralSource,
)
from casework.models.services import ConsentLegalBasis, ServiceAccess, ServiceCost, ServiceReferralStatus

GENDERS: dict[Gender, Message] = {
    Gender.FEMALE: N_("Female"),
    Gender.MALE: N_("Male"),
    Gender.OTHER: N_("Other gender"),
}
REFERRAL_SOURCES: dict[ReferralSource, Message] = {
    ReferralSource.SCHOOL: N_("School"),
    ReferralSource.SOCIAL_SERVICES: N_("Social services"),
    ReferralSource.EDUCATIONAL_SERVICES: N_("Educational services"),
    ReferralSource.COMPANY: N_("Company (human resources)"),
    ReferralSource.SPORTELLO: N_("Help desk (sportello, antenna)"),
    ReferralSource.SELF: N_("Self-referral"),
    ReferralSource.OTHER: N_("Other"),
}
CONTACT_CHANNELS: dict[ContactChannel, Message] = {
    ContactChannel.IN_PERSON: N_("In person"),
    ContactChannel.PHONE: N_("Phone"),
    ContactChannel.VIDEO: N_("Video call"),
    ContactChannel.EMAIL: N_("E-mail"),
    ContactChannel.HOME_VISIT: N_("Home visit"),
}
PRIORITIES: dict[Priority, Message] = {
    Priority.LOW: N_("Low"),
    Priority.MEDIUM: N_("Medium"),
    Priority.HIGH: N_("High"),
}
PERFORMERS: dict[Performer, Message] = {
    Performer.BENEFICIARY: N_("Beneficiary"),
    Performer.CASE_MANAGER: N_("Case manager"),
    Performer.SERVICE: N_("A service"),
    Performer.FAMILY: N_("Family"),
    Performer.OTHER: N_("Someone else"),
}
ACTION_STATUSES: dict[ActionStatus, Message] = {
    ActionStatus.PLANNED: N_("Planned"),
    ActionStatus.IN_PROGRESS: N_("In progress"),
    ActionStatus.DONE: N_("Done"),
    ActionStatus.CANCELLED: N_("Cancelled"),
}
GOAL_STATUSES: dict[ItemStatus, Message] = {
    ItemStatus.OPEN: N_("Still open"),
    ItemStatus.ACHIEVED: N_("Achieved"),
    ItemStatus.PARTLY_ACHIEVED: N_("Partly achieved"),
    ItemStatus.NOT_ACHIEVED: N_("Not achieved"),
}
GOALS_ACHIEVED: dict[GoalsAchieved, Message] = {
    GoalsAchieved.FULLY: N_("Fully"),
    GoalsAchieved.PARTLY: N_("Partly"),
    GoalsAchieved.NOT: N_("Not at all"),
}
RELATIONS: dict[Relation, Message] = {
    Relation.PARTNER: N_("Partner"),
    Relation.CHILD: N_("Child"),
    Relation.PARENT: N_("Parent"),
    Relation.SIBLING: N_("Brother or sister"),
    Relation.GRANDPARENT: N_("Grandparent"),
    Relation.OTHER: N_("Other relation"),
}
JOURNAL_KINDS: dict[JournalKind, Message] = {
    JournalKind.NOTE: N_("Note"),
    JournalKind.PHONE_CALL: N_("Phone call"),
    JournalKind.MEETING: N_("Meeting"),
    JournalKind.HOME_VISIT: N_("Home visit"),
    JournalKind.EQUIPE_MEETING: N_("Équipe meeting"),
    JournalKind.MESSAGE: N_("Message"),
}
DOCUMENT_KINDS: dict[DocumentKind, Message] = {
    DocumentKind.SIGNED_PACT: N_("Signed pact"),
    DocumentKind.ID_DOCUMENT: N_("Identity document"),
    DocumentKind.RESIDENCE_PERMIT: N_("Residence permit"),
    DocumentKind.CERTIFICATE: N_("Certificate"),
    DocumentKind.OTHER: N_("Other document"),
}

# A service referral's statuses and the reasons a provider refuses or a referral is dropped:
# the services package checks the codes, the pact's timeline and pages show the words.
SERVICE_REFERRAL_STATUSES: dict[ServiceReferralStatus, Message] = {
    ServiceReferralStatus.PROPOSED: N_("Proposed"),
    ServiceReferralStatus.REQUESTED: N_("Requested"),
    ServiceReferralStatus.ACCEPTED: N_("Accepted"),
    ServiceReferralStatus.REFUSED: N_("Refused"),
    ServiceReferralStatus.STARTED: N_("Started"),
    ServiceReferralStatus.COMPLETED: N_("Completed"),
    ServiceReferralStatus.DROPPED: N_("Dropped"),
}
SERVICE_REFUSAL_REASONS: dict[str, Message] = {
    "no_places": N_("No places available"),
    "not_eligible": N_("Not eligible for the service"),
    "out_of_area": N_("Outside the area the service covers"),
    "beneficiary_declined": N_("The beneficiary declined"),
    "no_answer": N_("No answer from the beneficiary"),
    "other": N_("Other reason"),
}
SERVICE_DROP_REASONS: dict[str, Message] = {
    "beneficiary_withdrew": N_("The beneficiary withdrew"),
    "no_show": N_("The beneficiary did not show up"),
    "moved_away": N_("The beneficiary moved away"),
    "needs_changed": N_("The needs changed"),
    "service_closed": N_("The service closed"),
    "other": N_("Other reason"),
    # Set by Casework when the pact closes with the referral still open; never chosen by hand.
    "pact_closed": N_("The pact was closed"),
}
# How a service is reached and what it costs: the public board, the directory and its search.
SERVICE_ACCESS: dict[ServiceAccess, Message] = {
    ServiceAccess.FREE_ACCESS: N_("Free access"),
    ServiceAccess.BY_APPOINTMENT: N_("By appointment"),
}
SERVICE_COSTS: dict[ServiceCost, Message] = {
    ServiceCost.FREE: N_("Free of charge"),
    ServiceCost.DISCOUNTED: N_("Discounted"),
    ServiceCost.PAID: N_("Paid"),
}
# The legal basis of a sharing of the person's data, as a data-protection officer reads it.
CONSENT_LEGAL_BASES: dict[ConsentLegalBasis, Message] = {
    ConsentLegalBasis.CONSENT: N_("Consent of the person (GDPR art. 6(1)(a) and 9(2)(a))"),
    ConsentLegalBasis.PUBLIC_TASK: N_("Task in the public interest: social services (GDPR art. 6(1)(e) and 9(2)(g))"),
    ConsentLegalBasis.LEGAL_OBLIGATION: N_("Legal obligation (GDPR art. 6(1)(c))"),
    ConsentLegalBasis.VITAL_INTERESTS: N_("Vital interests of the person (GDPR art. 6(1)(d) and 9(2)(c))"),
}
