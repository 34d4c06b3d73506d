"""Shared by the account tests: links read from the e-mails a real SMTP server received."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from casework.config import load_settings
from casework.reminders.mail import MailPolicy, SmtpMailer, deliver_due_emails

LINK = re.compile(r"https?://\S+/(invitation|password/reset)/(\S+)")
POLICY = MailPolicy(sender="casework@comune.example.org", max_attempts=3, retry_seconds=60, lease_seconds=300)


def deliver(session_factory: sessionmaker[Session], port: int, now: datetime) -> None:
    """Run the outbox's delivery once, to the test's SMTP server."""
    mailer = SmtpMailer(load_settings({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": 5},
                                      environ={}))
    deliver_due_emails(session_factory, mailer, clock=lambda: now, policy=POLICY, holder="test")


def links_to(handler, address: str) -> list[tuple[str, str]]:
    """(kind, token) of every password link e-mailed to `address`, oldest first."""
    found = []
    for message in handler.received():
        if str(message["To"]) == address:
            found.extend(LINK.findall(message.get_content()))
    return found
