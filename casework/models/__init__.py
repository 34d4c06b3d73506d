"""ORM models: every domain's tables, kept here, one module per subject (beneficiary, pact,
casefile, programme, supervision, reminders, mail, calendar_feed, security, territory, user...).
Importing this package registers every table on `Base.metadata`. Models hold columns,
constraints and relationships; the use cases live in the domain packages. No Flask here."""

from casework.models.account import AccountToken, PasswordResetRequest, TokenPurpose
from casework.models.administration import AdministrativeLogEntry
from casework.models.base import AppendOnlyViolation, Base, UTCDateTime, utcnow
from casework.models.beneficiary import Beneficiary, Gender, HouseholdMember, Relation
from casework.models.calendar_feed import CalendarFeedToken
from casework.models.casefile import ChangeRecord, Document, DocumentKind, JournalEntry, JournalKind
from casework.models.cover import AbsenceCover
from casework.models.mail import EmailStatus, OutboundEmail
from casework.models.office import OFFICE_SETTINGS_ID, OfficeSettings
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
from casework.models.programme import Programme, ProgrammeTarget
from casework.models.reminders import (
    DeadlineAnchorMove,
    DeadlinePause,
    DeadlineSnooze,
    DeadlineRefresh,
    Notification,
    NotificationKind,
    PactDeadline,
    Reminder,
    ReminderKind,
)
from casework.models.scheduler_lock import SchedulerLock
from casework.models.security import AccessLogEntry, LoginAttempt, UserSession
from casework.models.supervision import ApprovalDecision, PactApproval, PactReassignment
from casework.models.territory import (
    ClosureDay,
    Organisation,
    OrganisationKind,
    Territory,
    TerritoryKind,
)
from casework.models.user import Role, User

__all__ = [
    "AbsenceCover",
    "AdministrativeLogEntry",
    "AccessLogEntry",
    "AccountToken",
    "Action",
    "ActionStatus",
    "AppendOnlyViolation",
    "ApprovalDecision",
    "Base",
    "Beneficiary",
    "CalendarFeedToken",
    "ChangeRecord",
    "ClosureDay",
    "Commitment",
    "ContactChannel",
    "DeadlineAnchorMove",
    "DeadlinePause",
    "DeadlineSnooze",
    "DeadlineRefresh",
    "Document",
    "DocumentKind",
    "EmailStatus",
    "FollowUpContact",
    "Gender",
    "Goal",
    "GoalsAchieved",
    "HouseholdMember",
    "ItemStatus",
    "JournalEntry",
    "JournalKind",
    "LoginAttempt",
    "Notification",
    "NotificationKind",
    "OFFICE_SETTINGS_ID",
    "OfficeSettings",
    "Organisation",
    "OrganisationKind",
    "OutboundEmail",
    "Pact",
    "PactApproval",
    "PactDeadline",
    "PactMember",
    "PactOutcome",
    "PactReassignment",
    "PactRevision",
    "PasswordResetRequest",
    "Performer",
    "Priority",
    "Programme",
    "ProgrammeTarget",
    "Referral",
    "ReferralSource",
    "Relation",
    "Reminder",
    "ReminderKind",
    "Role",
    "SchedulerLock",
    "Screening",
    "Territory",
    "TerritoryKind",
    "TokenPurpose",
    "TransitionRecord",
    "UTCDateTime",
    "User",
    "UserSession",
    "utcnow",
]
