"""What supervisors record about pacts: approvals of the co-designed pact and reassignments."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only, str_enum
from casework.models.pact import Pact, PactRevision
from casework.models.user import User


class ApprovalDecision(enum.Enum):
    APPROVED = "approved"
    SENT_BACK = "sent_back"


class PactApproval(Base):
    """A supervisor's decision on one revision of a co-designed pact, where the workflow asks for one.

    Append-only: a pact sent back and revised gets a new revision and a new decision.
    """

    __tablename__ = "pact_approval"
    __table_args__ = (
        CheckConstraint("decision = 'approved' OR comment != ''", name="sent_back_with_comment"),
        Index("ix_pact_approval_pact_decided", "pact_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="RESTRICT"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("pact_revision.id", ondelete="RESTRICT"), index=True)
    decision: Mapped[ApprovalDecision] = mapped_column(str_enum(ApprovalDecision, "approval_decision"))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime]
    pact_version: Mapped[int]

    pact: Mapped[Pact] = relationship()
    revision: Mapped[PactRevision] = relationship()
    decided_by: Mapped[User] = relationship()


class PactReassignment(Base):
    """A pact handed from one case manager to another, by whom and why."""

    __tablename__ = "pact_reassignment"
    __table_args__ = (
        CheckConstraint("from_manager_id != to_manager_id", name="to_another_manager"),
        CheckConstraint("reason != ''", name="has_reason"),
        Index("ix_pact_reassignment_pact_at", "pact_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="RESTRICT"))
    from_manager_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_manager_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime]
    # The pact version the reassignment produced.
    pact_version: Mapped[int]

    pact: Mapped[Pact] = relationship()
    from_manager: Mapped[User] = relationship(foreign_keys=[from_manager_id])
    to_manager: Mapped[User] = relationship(foreign_keys=[to_manager_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


make_append_only(PactApproval, erasable=("comment",))
make_append_only(PactReassignment, erasable=("reason",))
