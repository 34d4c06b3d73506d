"""A user's second factor (TOTP) and recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base
from casework.models.user import User


class SecondFactor(Base):
    """The TOTP secret of a user who enrolled (RFC 6238, 30-second steps, 6 digits)."""

    __tablename__ = "second_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    # The base32 secret: the server must read it back to check codes, so it cannot be hashed.
    secret: Mapped[str] = mapped_column(String(64))
    enabled_at: Mapped[datetime]
    # The last time step a code was accepted for: the same code is not accepted twice.
    last_step: Mapped[int | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code for when the authenticator is lost; only its argon2 hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
