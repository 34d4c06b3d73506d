"""The words of the readable copy of a person's data (casework.people.subject_access): for each
table that can enter the copy, the section's title, a label for each column shown, and the
columns left out of the readable copy because they say nothing to a reader (keys, counters,
hashes, search keys, bookkeeping). Those stay in the JSON copy, which keeps every column.

Every column of every such table is either labelled or technical: tests/people/test_dossier_labels.py
fails on a column added without a decision, so nothing new is silently shown raw or left out.

Labels are English messages of the catalogue (casework.i18n), translated when the copy is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casework.i18n import N_, Message
from casework.models import labels
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
from casework.models.services import ConsentLegalBasis, ServiceReferralStatus
from casework.models.supervision import ApprovalDecision
from casework.services import LANGUAGES


@dataclass(frozen=True)
class SectionLabels:
    title: Message
    columns: dict[str, Message]  # the columns shown, in this order, with their label
    technical: frozenset[str] = field(default_factory=frozenset)
    # Each row as a card of label/value lines (long texts, many fields) rather than one table
    # with a column per field (short rows: one line each reads best on A4).
    one_card_per_row: bool = False


# Columns no reader needs, wherever they appear.
_KEY = frozenset({"id"})

SECTIONS: dict[str, SectionLabels] = {
    "beneficiary": SectionLabels(N_("Personal data"), {
        "last_name": N_("Surname"), "first_name": N_("Name"), "codice_fiscale": N_("Codice fiscale"),
        "birth_date": N_("Date of birth"), "birth_place": N_("Place of birth"), "gender": N_("Gender"),
        "citizenship": N_("Citizenship"), "migrant_background": N_("Migrant background"),
        "comune_id": N_("Comune of residence"), "address": N_("Address"), "phone": N_("Phone"),
        "email": N_("E-mail"), "preferred_language": N_("Preferred language"),
        "created_at": N_("Registered on"), "created_by_id": N_("Registered by"),
        "updated_at": N_("Last changed on"), "erased_at": N_("Erased on"),
    }, _KEY | {"last_name_key", "first_name_key", "phone_key", "version"}, one_card_per_row=True),
    "beneficiary_restriction": SectionLabels(N_("Restrictions of processing"), {
        "restricted_at": N_("Restricted on"), "restricted_by_id": N_("Restricted by"), "reason": N_("Reason"),
        "lifted_at": N_("Lifted on"), "lifted_by_id": N_("Lifted by"), "lift_reason": N_("Why lifted"),
    }, _KEY | {"beneficiary_id"}),
    "household_member": SectionLabels(N_("Household"), {
        "last_name": N_("Surname"), "first_name": N_("Name"), "relation": N_("Relation"),
        "birth_date": N_("Date of birth"),
    }, _KEY | {"beneficiary_id"}),
    "pact": SectionLabels(N_("Pacts"), {
        "id": N_("Pact no."), "programme_id": N_("Programme"), "workflow_name": N_("Path"),
        "state": N_("Stage"), "entered_from": N_("Previous stage"), "state_entered_at": N_("In this stage since"),
        "priority": N_("Priority"), "case_manager_id": N_("Case manager"), "opened_at": N_("Opened on"),
        "closed_at": N_("Closed on"), "next_deadline_at": N_("Next deadline"), "updated_at": N_("Last changed on"),
    }, frozenset({"beneficiary_id", "workflow_version", "version", "next_deadline_label"}), one_card_per_row=True),
    "referral": SectionLabels(N_("Referrals"), {
        "pact_id": N_("Pact"), "source": N_("Referred by"), "referrer_name": N_("Referrer"),
        "referrer_contact": N_("Referrer's contact"), "reason": N_("Reason"), "referred_on": N_("Referred on"),
        "recorded_at": N_("Recorded on"), "recorded_by_id": N_("Recorded by"),
    }, _KEY, one_card_per_row=True),
    "screening": SectionLabels(N_("Screenings"), {
        "pact_id": N_("Pact"), "completed_at": N_("Completed on"), "completed_by_id": N_("Completed by"),
        "total_score": N_("Total score"), "priority": N_("Priority"), "need_profile": N_("Needs by area"),
        "answers": N_("Answers"),
    }, _KEY, one_card_per_row=True),
    "goal": SectionLabels(N_("Goals"), {
        "pact_id": N_("Pact"), "description": N_("Goal"), "need_area": N_("Need area"),
        "target_date": N_("Target date"), "status": N_("Status"),
    }, _KEY),
    "pact_action": SectionLabels(N_("Actions"), {
        "pact_id": N_("Pact"), "goal_id": N_("Goal"), "description": N_("Action"), "performer": N_("Who does it"),
        "performer_detail": N_("Who exactly"), "due_on": N_("Due by"), "status": N_("Status"),
    }, _KEY),
    "commitment": SectionLabels(N_("Commitments"), {
        "pact_id": N_("Pact"), "party": N_("Who commits"), "text": N_("Commitment"),
    }, _KEY),
    "follow_up_contact": SectionLabels(N_("Follow-up contacts"), {
        "contact_at": N_("When"), "pact_id": N_("Pact"), "channel": N_("Channel"), "notes": N_("Notes"),
        "next_contact_on": N_("Next contact"), "recorded_by_id": N_("Recorded by"),
    }, _KEY | {"submission_key"}),
    "document": SectionLabels(N_("Documents"), {
        "original_name": N_("File"), "kind": N_("Kind"), "pact_id": N_("Pact"), "content_type": N_("File type"),
        "size_bytes": N_("Size"), "uploaded_at": N_("Uploaded on"), "uploaded_by_id": N_("Uploaded by"),
    }, _KEY | {"beneficiary_id", "stored_name", "sha256"}),
    "service_referral": SectionLabels(N_("Referrals to services"), {
        "pact_id": N_("Pact"), "service_id": N_("Service"), "action_id": N_("For the action"),
        "status": N_("Status"), "need_area": N_("Need area"), "proposed_at": N_("Proposed on"),
        "proposed_by_id": N_("Proposed by"), "requested_at": N_("Requested on"), "answered_at": N_("Answered on"),
        "refusal_reason": N_("Why refused"), "agreed_start_on": N_("Agreed start"), "started_on": N_("Started on"),
        "ended_at": N_("Ended on"), "drop_reason": N_("Why dropped"), "provider_contact": N_("Contact at the service"),
        "note": N_("Notes"), "updated_at": N_("Last changed on"),
    }, _KEY | {"version"}, one_card_per_row=True),
    "service_referral_event": SectionLabels(N_("Referrals to services: steps"), {
        "at": N_("When"), "referral_id": N_("Service"), "pact_id": N_("Pact"), "from_status": N_("From"),
        "to_status": N_("To"), "reason": N_("Reason"), "note": N_("Notes"), "actor_id": N_("By"),
    }, _KEY),
    "data_sharing_consent": SectionLabels(N_("Consents"), {
        "organisation_id": N_("Organisation that may receive the data"), "purpose": N_("Purpose"),
        "legal_basis": N_("Legal basis"), "given_on": N_("Given on"), "referral_id": N_("For the referral to"), "collected_by_id": N_("Collected by"),
        "recorded_at": N_("Recorded on"), "withdrawn_at": N_("Withdrawn on"),
    }, _KEY | {"beneficiary_id"}, one_card_per_row=True),
    "transition_record": SectionLabels(N_("Moves of the pacts"), {
        "at": N_("When"), "pact_id": N_("Pact"), "event": N_("Step"), "from_state": N_("From"),
        "to_state": N_("To"), "reason": N_("Reason"), "comment": N_("Comment"), "actor_id": N_("By"),
    }, _KEY | {"pact_version"}),
    "pact_outcome": SectionLabels(N_("Outcomes"), {
        "pact_id": N_("Pact"), "outcome": N_("Outcome"), "goals_achieved": N_("Goals achieved"),
        "notes": N_("Notes"), "recorded_at": N_("Recorded on"), "recorded_by_id": N_("Recorded by"),
    }, _KEY, one_card_per_row=True),
    "journal_entry": SectionLabels(N_("Journal"), {
        "at": N_("When"), "pact_id": N_("Pact"), "kind": N_("Kind"), "text": N_("Text"),
        "author_id": N_("Written by"), "recorded_at": N_("Recorded on"),
    }, _KEY | {"submission_key"}),
    "pact_member": SectionLabels(N_("Équipe"), {
        "pact_id": N_("Pact"), "user_id": N_("Staff member"), "external_name": N_("External member"),
        "role": N_("Role"), "organisation": N_("Organisation"), "contact": N_("Contact"), "added_at": N_("Added on"),
    }, _KEY),
    "pact_revision": SectionLabels(N_("Revisions of the pacts"), {
        "pact_id": N_("Pact"), "number": N_("Revision no."), "created_at": N_("Prepared on"),
        "created_by_id": N_("Prepared by"), "signed_on": N_("Signed on"), "signed_by": N_("Signed by"),
        "consent_given": N_("Consent given"), "content": N_("Content"),
    }, _KEY, one_card_per_row=True),
    "pact_approval": SectionLabels(N_("Approvals"), {
        "decided_at": N_("When"), "pact_id": N_("Pact"), "revision_id": N_("Revision"), "decision": N_("Decision"),
        "comment": N_("Comment"), "decided_by_id": N_("Decided by"),
    }, _KEY | {"pact_version"}),
    "pact_reassignment": SectionLabels(N_("Reassignments"), {
        "at": N_("When"), "pact_id": N_("Pact"), "from_manager_id": N_("From"), "to_manager_id": N_("To"),
        "reason": N_("Reason"), "actor_id": N_("By"),
    }, _KEY | {"pact_version"}),
    "deadline_pause": SectionLabels(N_("Deadlines paused"), {
        "pact_id": N_("Pact"), "rule_id": N_("Deadline"), "paused_at": N_("Paused on"), "paused_by_id": N_("Paused by"),
        "reason": N_("Reason"), "resumed_at": N_("Resumed on"), "resumed_by_id": N_("Resumed by"),
    }, _KEY),
    "deadline_snooze": SectionLabels(N_("Reminders put off"), {
        "pact_id": N_("Pact"), "rule_id": N_("Deadline"), "due_at": N_("Due on"), "until_on": N_("Put off until"),
        "reason": N_("Reason"), "snoozed_at": N_("Put off on"), "snoozed_by_id": N_("Put off by"),
    }, _KEY),
    "change_record": SectionLabels(N_("Changes made to the records"), {
        "at": N_("When"), "entity": N_("Record"), "field": N_("Field"), "old_value": N_("Before"),
        "new_value": N_("After"), "actor_id": N_("By"),
    }, _KEY | {"entity_id"}),  # entity_id is shown with the entity: "Pact no. 12"
}

# The order of the readable copy: the person, what they agreed to and handed in, then each pact
# from its referral to its outcome, then the history of the records.
READING_ORDER = (
    "beneficiary", "beneficiary_restriction", "household_member", "data_sharing_consent", "document", "pact", "pact_member", "referral",
    "screening", "goal", "pact_action", "commitment", "pact_revision", "pact_approval", "follow_up_contact",
    "journal_entry", "service_referral", "service_referral_event", "pact_outcome", "transition_record",
    "pact_reassignment", "deadline_pause", "deadline_snooze", "change_record",
)

# The words for the codes of enum columns: the app's own labels where it has them.
ENUM_LABELS: dict[type, dict] = {
    Gender: labels.GENDERS, Relation: labels.RELATIONS, DocumentKind: labels.DOCUMENT_KINDS,
    JournalKind: labels.JOURNAL_KINDS, ReferralSource: labels.REFERRAL_SOURCES,
    ContactChannel: labels.CONTACT_CHANNELS, Priority: labels.PRIORITIES, Performer: labels.PERFORMERS,
    ActionStatus: labels.ACTION_STATUSES, ItemStatus: labels.GOAL_STATUSES, GoalsAchieved: labels.GOALS_ACHIEVED,
    ServiceReferralStatus: labels.SERVICE_REFERRAL_STATUSES, ConsentLegalBasis: labels.CONSENT_LEGAL_BASES,
    ApprovalDecision: {ApprovalDecision.APPROVED: N_("Approved"), ApprovalDecision.SENT_BACK: N_("Sent back")},
}

# Columns holding a code of the pact's workflow file (casework.workflow.definition.LABEL_KINDS).
WORKFLOW_CODES: dict[tuple[str, str], str] = {
    ("pact", "workflow_name"): "workflow", ("pact", "state"): "state", ("pact", "entered_from"): "state",
    ("transition_record", "event"): "event", ("transition_record", "from_state"): "state",
    ("transition_record", "to_state"): "state", ("transition_record", "reason"): "reason",
    ("pact_outcome", "outcome"): "outcome", ("goal", "need_area"): "need_area",
    ("service_referral", "need_area"): "need_area", ("deadline_pause", "rule_id"): "deadline",
    ("deadline_snooze", "rule_id"): "deadline",
}

# The steps of a service referral that change no status (casework.services.referrals): their code.
SAME_STATUS_STEPS: dict[str, Message] = {
    "consent_recorded": N_("Consent recorded"), "consent_withdrawn": N_("Consent withdrawn"),
    "action_linked": N_("Action linked"), "provider_contact": N_("Contact at the service changed"),
}

# Columns holding a code the app words elsewhere (statuses and reasons of service referrals).
CODE_LABELS: dict[tuple[str, str], dict[str, Message]] = {
    ("beneficiary", "preferred_language"): LANGUAGES,
    ("service_referral", "refusal_reason"): labels.SERVICE_REFUSAL_REASONS,
    ("service_referral", "drop_reason"): labels.SERVICE_DROP_REASONS,
    ("service_referral_event", "from_status"): {s.value: m for s, m in labels.SERVICE_REFERRAL_STATUSES.items()},
    ("service_referral_event", "to_status"): {s.value: m for s, m in labels.SERVICE_REFERRAL_STATUSES.items()},
    ("service_referral_event", "reason"): {**labels.SERVICE_DROP_REASONS, **labels.SERVICE_REFUSAL_REASONS,
                                           **SAME_STATUS_STEPS},
}

YES = N_("Yes")
NO = N_("No")
PERSON_RECORD = N_("Personal data")
PACT_NUMBER = N_("{programme}, pact no. {number}")
REVISION_NUMBER = N_("Revision no. {number}")
