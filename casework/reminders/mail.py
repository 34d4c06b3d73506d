"""E-mail: the outbox (queued in the deciding transaction) and its delivery through SMTP.

Delivery is claim, send, record:

1. claim: in a short transaction, a due message moves to `sending` with a lease (its
   `next_attempt_at` becomes the lease's expiry) and its attempt is counted;
2. send: through SMTP, outside any transaction (a slow server must not hold a database lock);
3. record: `sent`, or back to `pending` with the next attempt after an exponential backoff,
   or `failed` after the last attempt or a permanent refusal (5xx), for an administrator.

A sender that dies after claiming leaves the message `sending` until its lease runs out; the
next delivery run takes it again and sends it, once. A claim takes a batch, but the lease
only has to cover one send: just before sending each message the sender renews its lease, in
a short transaction that succeeds only while the message is still its own (a slow server may
have let the lease of a later message run out and another sender take it: that one is then
skipped, not sent twice). A send takes at most `smtp_timeout_seconds` in all (SmtpMailer), and
the settings require the lease to be longer.

A message that cannot be built or handed over for any reason other than the mail server or
the network (a header with a newline in it, say) would fail the same way at every attempt: it
is marked failed at once with its error, for an administrator, and the rest go out. So is a
message whose last allowed attempt never reported back (its sender died each time).

A sender that dies after the SMTP server accepted a message but before recording it would
send it again: SMTP offers nothing better; the Message-ID stays the same across attempts, so
receiving systems can tell.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.config import Settings
from casework.db import fit_to_column
from casework.models import OFFICE_SETTINGS_ID, EmailStatus, OfficeSettings, OutboundEmail, User
from casework.reminders.scheduler_lock import take_turn

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
MAIL_TURN = "mail"


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message to the mail server; raise on failure."""


class SmtpMailer:
    """Sends through the configured SMTP server (smtp_* settings), one connection per message."""

    def __init__(self, settings: Settings):
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.use_tls = settings.smtp_use_tls
        self.timeout = settings.smtp_timeout_seconds

    def send(self, message: EmailMessage) -> None:
        """Raises socket.timeout (an OSError) past `smtp_timeout_seconds` in all, not per step:
        the mail lease must outlast a whole send, and a server answering each of a dozen
        commands just before the socket timeout would otherwise take a dozen times as long."""
        deadline = time.monotonic() + self.timeout
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            # Shutting the socket down wakes whatever command is waiting on it with an OSError.
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _shut, args=(smtp,))
            watchdog.daemon = True
            watchdog.start()
            try:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
            finally:
                watchdog.cancel()
            # The server has the message: a slow goodbye must neither fail it (it would be sent
            # again) nor outlast the lease.
            remaining = deadline - time.monotonic()
            if remaining > 0 and smtp.sock is not None:
                smtp.sock.settimeout(remaining)
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        finally:
            smtp.close()


def _shut(smtp: smtplib.SMTP) -> None:
    sock = smtp.sock  # read now: STARTTLS replaces the socket
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: the send finished


class FolderMailer:
    """Writes each message to a folder as an .eml file instead of sending it (the demo, a test
    installation without a mail server). Any mail program opens the files.

    The file is named after the Message-ID, which stays the same across attempts: a message
    delivered again replaces its file rather than adding a second one. Written to a temporary
    file first and renamed, so a reader never sees half a message.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path_for(self, message: EmailMessage) -> Path:
        digest = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:16]
        return self.folder / f"{digest}.eml"

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(message)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".sending-", suffix=".eml")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(message.as_bytes(policy=SMTP))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def mailer_for(settings: Settings) -> Mailer:
    """The configured transport: the mail folder when one is set, otherwise SMTP."""
    folder = settings.mail_folder_dir
    return FolderMailer(folder) if folder is not None else SmtpMailer(settings)


@dataclass(frozen=True)
class MailPolicy:
    sender: str = "casework@localhost"
    max_attempts: int = 6
    retry_seconds: int = 60
    lease_seconds: int = 300
    batch_size: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> MailPolicy:
        # A claim counts an attempt on each message of the batch and leases them all until the
        # same instant: the batch must be sent within that lease even when every send takes the
        # whole SMTP timeout and every record waits for the lock, or another sender would take
        # over messages never tried, and give up on one whose counted attempts ran out.
        per_message = settings.smtp_timeout_seconds + settings.db_lock_timeout_seconds
        batch_size = max(1, min(cls.batch_size, settings.mail_lease_seconds // per_message))
        return cls(
            sender=settings.mail_sender, max_attempts=settings.mail_max_attempts,
            retry_seconds=settings.mail_retry_seconds, lease_seconds=settings.mail_lease_seconds,
            batch_size=batch_size,
        )

    def backoff(self, attempts: int) -> timedelta:
        """Wait before the next attempt, after `attempts` failed ones: retry, 2x, 4x... at most 6 h."""
        return min(timedelta(seconds=self.retry_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def email_values(*, dedupe_key: str, kind: str, recipient: User, subject: str, body: str, now: datetime) -> dict:
    """The outbox row of a new message, as values for an INSERT."""
    return {
        "dedupe_key": dedupe_key, "kind": kind, "recipient_id": recipient.id, "to_address": recipient.email,
        "subject": fit_to_column(OutboundEmail.subject, subject), "body": body, "created_at": now,
        "status": EmailStatus.PENDING, "attempts": 0,
        "next_attempt_at": now, "claimed_by": "", "sent_at": None, "last_error": "",
    }


def queue_email(
    session: Session, *, dedupe_key: str, kind: str, recipient: User, subject: str, body: str, now: datetime
) -> OutboundEmail | None:
    """Put a message in the outbox (sent after the caller commits); None if the user has no address."""
    if not recipient.email:
        return None
    email = OutboundEmail(**email_values(dedupe_key=dedupe_key, kind=kind, recipient=recipient, subject=subject,
                                         body=body, now=now))
    session.add(email)
    return email


def message_id(email: OutboundEmail, sender: str) -> str:
    """The same for every attempt at one message, so a receiver can tell a repeat."""
    domain = sender.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(email.dedupe_key.encode()).hexdigest()[:16]
    return f"<casework.{email.id}.{digest}@{domain}>"


PRODUCT_NAME = "Casework"


def office_signature(session: Session) -> str:
    """The line signed under every e-mail: the ente's name and its letterhead, or the product's name."""
    row = session.get(OfficeSettings, OFFICE_SETTINGS_ID)
    if row is None or not row.ente_name:
        return PRODUCT_NAME
    lines = [row.ente_name, *(line for line in (row.letterhead or "").splitlines() if line.strip())]
    return "\n".join(lines)


def build_message(email: OutboundEmail, sender: str, signature: str = "") -> EmailMessage:
    """The message as sent; `signature` goes under the body after the usual "-- " line."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = message_id(email, sender)
    message["Auto-Submitted"] = "auto-generated"
    body = email.body
    if signature:
        body = f"{body.rstrip()}\n\n-- \n{signature}\n"
    message.set_content(body)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_leases: int = 0


def _transient(error: Exception) -> bool:
    """The mail server or the network failed: another attempt may succeed. Anything else (the
    message cannot be built, say) would fail the same way every time."""
    return isinstance(error, (smtplib.SMTPException, OSError))


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _claim(session_factory: sessionmaker[Session], holder: str, policy: MailPolicy, now: datetime) -> list[OutboundEmail]:
    lease_until = now + timedelta(seconds=policy.lease_seconds)
    with session_factory() as session:
        take_turn(session, MAIL_TURN, holder, now)
        due = select(OutboundEmail.id, OutboundEmail.status, OutboundEmail.attempts).where(
            OutboundEmail.status.in_([EmailStatus.PENDING, EmailStatus.SENDING]),
            OutboundEmail.next_attempt_at <= now,
        ).order_by(OutboundEmail.next_attempt_at, OutboundEmail.id).limit(policy.batch_size)
        claimed = []
        for email_id, status, attempts in session.execute(due.with_for_update(skip_locked=True)).all():
            free = (OutboundEmail.id == email_id, OutboundEmail.status == status,
                    OutboundEmail.attempts == attempts, OutboundEmail.next_attempt_at <= now)
            if status == EmailStatus.SENDING and attempts >= policy.max_attempts:
                # Its last attempt never reported back (the sender died, every time): give up.
                if session.execute(
                    update(OutboundEmail).where(*free)
                    .values(status=EmailStatus.FAILED, last_error=ABANDONED).execution_options(synchronize_session=False)
                ).rowcount == 1:
                    log.error("e-mail %s failed for good: %s", email_id, ABANDONED)
                continue
            # Compare-and-set: only one sender can move a row whose lease is free.
            changed = session.execute(
                update(OutboundEmail).where(*free)
                .values(status=EmailStatus.SENDING, claimed_by=holder, attempts=OutboundEmail.attempts + 1,
                        next_attempt_at=lease_until)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed == 1:
                claimed.append(email_id)
        emails = list(session.scalars(select(OutboundEmail).where(OutboundEmail.id.in_(claimed)))) if claimed else []
        session.commit()
        return sorted(emails, key=lambda e: e.id)


ABANDONED = "the sender stopped during the last attempt (its lease ran out)"


def _renew(session: Session, email: OutboundEmail, holder: str, policy: MailPolicy, now: datetime) -> bool:
    """Extend the lease on `email` for one send, if it is still ours; False if another sender took it."""
    return session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email.id, OutboundEmail.claimed_by == holder,
               OutboundEmail.status == EmailStatus.SENDING, OutboundEmail.attempts == email.attempts)
        .values(next_attempt_at=now + timedelta(seconds=policy.lease_seconds))
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _renew_alone(session_factory: sessionmaker[Session], email: OutboundEmail, holder: str, policy: MailPolicy,
                 now: datetime) -> bool:
    with session_factory() as session:
        renewed = _renew(session, email, holder, policy, now)
        session.commit()
    return renewed


def _record(
    session_factory: sessionmaker[Session], email: OutboundEmail, holder: str, policy: MailPolicy, now: datetime,
    error: Exception | None, report: DeliveryReport, following: OutboundEmail | None = None,
) -> bool:
    """Record how sending `email` went; in the same transaction (one write fewer a message on
    SQLite), renew the lease on `following`, the next to send. Returns whether that one is
    still ours (False when there is none)."""
    if error is None:
        values = {"status": EmailStatus.SENT, "sent_at": now, "last_error": ""}
    elif email.attempts >= policy.max_attempts or _permanent(error) or not _transient(error):
        values = {"status": EmailStatus.FAILED, "last_error": _describe(error)}
    else:
        values = {"status": EmailStatus.PENDING, "next_attempt_at": now + policy.backoff(email.attempts),
                  "last_error": _describe(error)}
    with session_factory() as session:
        changed = session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == email.id, OutboundEmail.claimed_by == holder,
                   OutboundEmail.status == EmailStatus.SENDING)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
        renewed = following is not None and _renew(session, following, holder, policy, now)
        session.commit()
    if changed != 1:
        # Our lease ran out and another sender took the message over.
        report.lost_leases += 1
        log.warning("e-mail %s: lease lost before its result was recorded", email.id)
    elif error is None:
        report.sent += 1
    elif values["status"] == EmailStatus.FAILED:
        report.failed += 1
        log.error("e-mail %s to %s failed for good: %s", email.id, email.to_address, values["last_error"])
    else:
        report.retried += 1
        log.warning("e-mail %s to %s not sent (attempt %s), retrying: %s", email.id, email.to_address,
                    email.attempts, values["last_error"])
    return renewed


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def deliver_due_emails(
    session_factory: sessionmaker[Session],
    mailer: Mailer,
    *,
    clock: Callable[[], datetime],
    policy: MailPolicy,
    holder: str,
    max_batches: int | None = None,
) -> DeliveryReport:
    """Send every message due by now (pending, due for a retry, or left by a dead sender).

    `clock` is read at each step: leases and backoffs count from when things happen.
    """
    report = DeliveryReport()
    batches = 0
    signature = None
    while max_batches is None or batches < max_batches:
        batches += 1
        emails = _claim(session_factory, holder, policy, clock())
        if not emails:
            break
        if signature is None:
            with session_factory() as session:
                signature = office_signature(session)
        ours: bool | None = None  # whether the lease on the next message was renewed: not yet
        for index, email in enumerate(emails):
            if ours is None:
                ours = _renew_alone(session_factory, email, holder, policy, clock())
            if not ours:
                report.lost_leases += 1
                log.warning("e-mail %s: lease lost before sending it; another sender has it", email.id)
                ours = None
                continue
            try:
                mailer.send(build_message(email, policy.sender, signature))
                error = None
            except Exception as exc:  # noqa: BLE001 - recorded: retried if transient, failed otherwise
                error = exc
            following = emails[index + 1] if index + 1 < len(emails) else None
            ours = _record(session_factory, email, holder, policy, clock(), error, report, following)
    return report


def failed_emails(session: Session, *, limit: int = 100) -> list[OutboundEmail]:
    """Messages given up on, newest first: what an administrator must look at."""
    return list(session.scalars(
        select(OutboundEmail).where(OutboundEmail.status == EmailStatus.FAILED)
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc()).limit(limit)
    ))


def retry_email(session: Session, email_id: int, *, now: datetime) -> bool:
    """Put a failed message back in the outbox with fresh attempts; False if it is not failed."""
    changed = session.execute(
        update(OutboundEmail).where(OutboundEmail.id == email_id, OutboundEmail.status == EmailStatus.FAILED)
        .values(status=EmailStatus.PENDING, attempts=0, next_attempt_at=now, claimed_by="")
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1
