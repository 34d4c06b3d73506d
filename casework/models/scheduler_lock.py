"""The rows that make the scheduler's write transactions take turns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base


class SchedulerLock(Base):
    """Rows whose update opens every scheduler write transaction, so they run one at a time.

    On SQLite a first statement that writes takes the database's write lock at once (what
    BEGIN IMMEDIATE would do); on PostgreSQL it takes the row's lock until commit. Either lock
    dies with the process that held it. `run_at` and `holder` say when which process last ran.
    """

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    run_at: Mapped[datetime | None]
