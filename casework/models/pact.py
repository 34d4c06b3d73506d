"""The pact and everything recorded along its workflow."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only, str_enum, utcnow
from casework.models.beneficiary import Beneficiary
from casework.models.programme import Programme
from casework.models.user import User


class Priority(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Pact(Base):
    """A beneficiary's personalised pact in one programme, driven by one workflow version.

    `version` is SQLAlchemy's version counter: an UPDATE carries `WHERE version = <read>`
    so a concurrent change is detected instead of overwritten.
    """

    __tablename__ = "pact"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closed_after_opened"),
        CheckConstraint("state_entered_at >= opened_at", name="entered_after_opened"),
        CheckConstraint("workflow_version >= 1", name="workflow_version_positive"),
        Index("ix_pact_case_manager_state", "case_manager_id", "state"),
        Index("ix_pact_programme_state", "programme_id", "state"),
        # Sweeps and "what is due" read only open pacts ordered by deadline.
        Index(
            "ix_pact_open_deadline",
            "next_deadline_at",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # A case manager's open pacts (Oggi), not every pact they ever had.
        Index(
            "ix_pact_open_case_manager",
            "case_manager_id",
            "next_deadline_at",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # The open pacts in given stages (the approvals queue: those waiting for a decision). Without
        # it every open pact's row was read to check its stage: 0.2 ms at 10,000 pacts, 4 ms at 100,000
        # on SQLite, whose rows then no longer sit in its cache.
        Index(
            "ix_pact_open_state",
            "state",
            "workflow_name",
            "workflow_version",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    case_manager_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    workflow_name: Mapped[str] = mapped_column(String(80))
    workflow_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority, "priority"))
    opened_at: Mapped[datetime]
    state_entered_at: Mapped[datetime]
    # The state the pact left to enter its current one: where "resume" returns to.
    entered_from: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[datetime | None]
    next_deadline_at: Mapped[datetime | None]
    next_deadline_label: Mapped[str] = mapped_column(String(80), default="")
    # Every change to the pact or its parts sets this, so the version counter moves and a
    # concurrent edit of any part is detected.
    updated_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": version}

    beneficiary: Mapped[Beneficiary] = relationship()
    programme: Mapped[Programme] = relationship()
    case_manager: Mapped[User] = relationship()
    members: Mapped[list[PactMember]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactMember.id"
    )
    referral: Mapped[Referral | None] = relationship(back_populates="pact", cascade="all, delete-orphan")
    screenings: Mapped[list[Screening]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="Screening.id"
    )
    goals: Mapped[list[Goal]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="Goal.id"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="Action.id"
    )
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="Commitment.id"
    )
    revisions: Mapped[list[PactRevision]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="PactRevision.number"
    )
    contacts: Mapped[list[FollowUpContact]] = relationship(
        back_populates="pact", cascade="all, delete-orphan", order_by="FollowUpContact.contact_at"
    )
    outcome: Mapped[PactOutcome | None] = relationship(back_populates="pact", cascade="all, delete-orphan")
    transitions: Mapped[list[TransitionRecord]] = relationship(
        back_populates="pact", order_by="TransitionRecord.id", viewonly=True
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def latest_screening(self) -> Screening | None:
        return self.screenings[-1] if self.screenings else None

    @property
    def latest_revision(self) -> PactRevision | None:
        return self.revisions[-1] if self.revisions else None

    def __repr__(self) -> str:
        return f"<Pact {self.id} {self.workflow_name}@{self.state} v{self.version}>"


class PactMember(Base):
    """Équipe: a colleague (a user) or an external contact such as a teacher or mediator."""

    __tablename__ = "pact_member"
    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR external_name != ''", name="user_or_external"),
        UniqueConstraint("pact_id", "user_id"),
        # Colleagues only: externals (no user) are never looked up by user, and were they in
        # the index, a caseload of mostly external members would make both databases' planners
        # judge it useless and read every member to find one colleague's pacts.
        Index("ix_pact_member_user_id", "user_id", sqlite_where=text("user_id IS NOT NULL"),
              postgresql_where=text("user_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    external_name: Mapped[str] = mapped_column(String(160), default="")
    role: Mapped[str] = mapped_column(String(80))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    pact: Mapped[Pact] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship()


class ReferralSource(enum.Enum):
    SCHOOL = "school"
    SOCIAL_SERVICES = "social_services"
    EDUCATIONAL_SERVICES = "educational_services"
    COMPANY = "company"
    SPORTELLO = "sportello"
    SELF = "self"
    OTHER = "other"


class Referral(Base):
    """Segnalazione: who referred the person, when and why."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), unique=True)
    source: Mapped[ReferralSource] = mapped_column(str_enum(ReferralSource, "referral_source"))
    referrer_name: Mapped[str] = mapped_column(String(160), default="")
    referrer_contact: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    referred_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    pact: Mapped[Pact] = relationship(back_populates="referral")


class Screening(Base):
    """A completed scheda di screening: answers, need profile per area, score and priority."""

    __tablename__ = "screening"
    __table_args__ = (CheckConstraint("total_score >= 0", name="score_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    need_profile: Mapped[dict[str, int]] = mapped_column(JSON)
    total_score: Mapped[int]
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "priority"))
    completed_at: Mapped[datetime]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    pact: Mapped[Pact] = relationship(back_populates="screenings")


class ItemStatus(enum.Enum):
    OPEN = "open"
    ACHIEVED = "achieved"
    PARTLY_ACHIEVED = "partly_achieved"
    NOT_ACHIEVED = "not_achieved"


class Goal(Base):
    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    need_area: Mapped[str] = mapped_column(String(40), default="")
    target_date: Mapped[date | None]
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus, "goal_status"), default=ItemStatus.OPEN)

    pact: Mapped[Pact] = relationship(back_populates="goals")


class Performer(enum.Enum):
    BENEFICIARY = "beneficiary"
    CASE_MANAGER = "case_manager"
    SERVICE = "service"
    FAMILY = "family"
    OTHER = "other"


class ActionStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Action(Base):
    """Who does what by when to reach a goal; a service activated is an action by a service."""

    __tablename__ = "pact_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    performer: Mapped[Performer] = mapped_column(str_enum(Performer, "performer"))
    performer_detail: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date | None]
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )

    pact: Mapped[Pact] = relationship(back_populates="actions")
    goal: Mapped[Goal | None] = relationship()


class Commitment(Base):
    """Co-responsabilità: what one party undertakes in the pact."""

    __tablename__ = "commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    party: Mapped[Performer] = mapped_column(str_enum(Performer, "performer"))
    text: Mapped[str] = mapped_column(Text)

    pact: Mapped[Pact] = relationship(back_populates="commitments")


class PactRevision(Base):
    """A frozen version of the co-designed pact (goals, actions, commitments) and its signature.

    Revisions are never edited after signature: a change makes a new revision.
    """

    __tablename__ = "pact_revision"
    __table_args__ = (
        UniqueConstraint("pact_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint(
            "(signed_on IS NULL AND signed_by = '') OR (signed_on IS NOT NULL AND signed_by != '')",
            name="signature_complete",
        ),
        CheckConstraint("signed_on IS NULL OR consent_given", name="signed_with_consent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_on: Mapped[date | None]
    signed_by: Mapped[str] = mapped_column(String(300), default="")
    consent_given: Mapped[bool] = mapped_column(default=False)

    pact: Mapped[Pact] = relationship(back_populates="revisions")

    @property
    def is_signed(self) -> bool:
        return self.signed_on is not None


class ContactChannel(enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    EMAIL = "email"
    HOME_VISIT = "home_visit"


class FollowUpContact(Base):
    __tablename__ = "follow_up_contact"
    __table_args__ = (Index("ix_follow_up_contact_pact_at", "pact_id", "contact_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    contact_at: Mapped[datetime]
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, "contact_channel"))
    notes: Mapped[str] = mapped_column(Text, default="")
    next_contact_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The one-time key of the form that recorded it: the same form sent twice records one contact.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    pact: Mapped[Pact] = relationship(back_populates="contacts")


class GoalsAchieved(enum.Enum):
    FULLY = "fully"
    PARTLY = "partly"
    NOT = "not"


class PactOutcome(Base):
    """Esito: recorded before closure; `outcome` is one of the workflow file's outcome codes."""

    __tablename__ = "pact_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(60))
    goals_achieved: Mapped[GoalsAchieved] = mapped_column(str_enum(GoalsAchieved, "goals_achieved"))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    pact: Mapped[Pact] = relationship(back_populates="outcome")


class TransitionRecord(Base):
    """Append-only audit of every workflow move: who, when, from, to, why."""

    __tablename__ = "transition_record"
    __table_args__ = (
        # A pact's history in order, and one record per version the pact reached by a move.
        UniqueConstraint("pact_id", "pact_version"),
        CheckConstraint("pact_version >= 1", name="pact_version_positive"),
        # Indicators find when pacts reached a stage (funnel, days to activation).
        Index("ix_transition_record_to_state_at", "to_state", "at"),
        # Oggi's recent activity: the latest moves first, whoever's pacts they are.
        Index("ix_transition_record_at", "at"),
        # The indicators' "first move into a stage" per pact, read from the index alone; without it
        # SQLite may take the (to_state, at) index of every pact's moves when ANALYZE has not run.
        Index("ix_transition_record_pact_state_at", "pact_id", "to_state", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="RESTRICT"))
    event: Mapped[str] = mapped_column(String(60))
    # NULL source: the record of the pact's creation in its initial state.
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    # The code the actor picked from the event's `reasons` (e.g. why a beneficiary withdrew).
    reason: Mapped[str | None] = mapped_column(String(60))
    pact_version: Mapped[int]

    pact: Mapped[Pact] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()


make_append_only(TransitionRecord, erasable=("comment",))
