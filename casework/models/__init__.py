"""ORM models. Importing this package registers every table on `Base.metadata`."""

from casework.models.base import AppendOnlyViolation, Base, UTCDateTime, utcnow
from casework.models.beneficiary import Beneficiary, Gender, HouseholdMember, Relation
from casework.models.pact import (
    Action,
    ActionStatus,
    Commitment,
    ContactChannel,
    FollowUpContact,
    Goal,
    GoalsAchieved,
    ItemStatus,
    Pact,
    PactMember,
    PactOutcome,
    PactRevision,
    Performer,
    Priority,
    Referral,
    ReferralSource,
    Screening,
    TransitionRecord,
)
from casework.models.casefile import ChangeRecord, Document, DocumentKind, JournalEntry, JournalKind
from casework.models.programme import Programme, ProgrammeTarget
from casework.models.reminders import (
    CalendarFeedToken,
    DeadlineAnchorMove,
    DeadlinePause,
    DeadlineRefresh,
    EmailStatus,
    Notification,
    NotificationKind,
    OutboundEmail,
    PactDeadline,
    Reminder,
    ReminderKind,
    SchedulerLock,
)
from casework.models.supervision import ApprovalDecision, PactApproval, PactReassignment
from casework.models.security import AccessLogEntry, LoginAttempt, UserSession
from casework.models.territory import Organisation, OrganisationKind, Territory, TerritoryKind
from casework.models.user import Role, User

__all__ = [
    "AccessLogEntry", "ChangeRecord", "Document", "DocumentKind", "JournalEntry", "JournalKind",
    "LoginAttempt", "UserSession",
    "Action", "ActionStatus", "AppendOnlyViolation", "Base", "Beneficiary", "Commitment",
    "ContactChannel", "FollowUpContact", "Gender", "Goal", "GoalsAchieved", "HouseholdMember",
    "ItemStatus", "Organisation", "OrganisationKind", "Pact", "PactMember", "PactOutcome",
    "PactRevision", "Performer", "Priority", "Programme", "ProgrammeTarget", "Referral",
    "ReferralSource", "Relation", "Role", "Screening", "Territory", "TerritoryKind",
    "TransitionRecord", "User", "UTCDateTime", "utcnow",
    "CalendarFeedToken", "DeadlineAnchorMove", "DeadlinePause", "DeadlineRefresh", "EmailStatus",
    "Notification", "NotificationKind", "OutboundEmail", "PactDeadline", "Reminder", "ReminderKind",
    "SchedulerLock",
    "ApprovalDecision", "PactApproval", "PactReassignment",
]
