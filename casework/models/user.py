from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum, utcnow
from casework.models.territory import Organisation, Territory


class Role(enum.Enum):
    CASE_MANAGER = "case_manager"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # Unique whatever the case: "Giulia" and "giulia" are one person (an empty e-mail is no address).
        Index("ix_user_account_lower_username", func.lower(text("username")), unique=True),
        Index("ix_user_account_lower_email", func.lower(text("email")), unique=True,
              sqlite_where=text("email != ''"), postgresql_where=text("email != ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="it")
    active: Mapped[bool] = mapped_column(default=True)
    # E-mail preferences (own account): the in-app notifications come either way.
    email_digest: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    territory: Mapped[Territory] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"
