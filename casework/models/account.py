"""Single-use links to choose a password (invitation, reset) and forgotten-password requests."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum
from casework.models.user import User


class TokenPurpose(enum.Enum):
    INVITATION = "invitation"  # valid 72 hours: a new account chooses its password
    RESET = "reset"  # valid 1 hour: a forgotten password, or one an administrator sent


class AccountToken(Base):
    """A link sent by e-mail; only the SHA-256 of its random token is stored. Used once."""

    __tablename__ = "account_token"
    __table_args__ = (Index("ix_account_token_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # used, or superseded by a newer link

    user: Mapped[User] = relationship()


class PasswordResetRequest(Base):
    """One "I forgot my password" request: kept in the database so throttling holds across
    every web worker. `user_id` is the account it named, if any (never shown to the asker)."""

    __tablename__ = "password_reset_request"
    __table_args__ = (
        Index("ix_password_reset_request_ip_address_at", "ip_address", "at"),
        Index("ix_password_reset_request_user_id_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    ip_address: Mapped[str] = mapped_column(String(45))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
