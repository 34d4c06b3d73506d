"""The office's identity: the ente's name, its logo and the letterhead text printed on pacts,
funder reports and e-mails. One row (id 1), absent until an administrator saves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base

OFFICE_SETTINGS_ID = 1


class OfficeSettings(Base):
    __tablename__ = "office_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ente_name: Mapped[str] = mapped_column(String(200), default="")
    letterhead: Mapped[str] = mapped_column(Text, default="")
    # The logo's bytes and their checked type (image/png, image/jpeg, image/svg+xml); never a file name.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
