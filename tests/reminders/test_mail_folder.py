"""Demo mode: with `mail_folder` set, the scheduler's mail job writes each message as an .eml file
in the folder instead of sending it; every message is signed with the office's name."""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone
from email import policy

from casework.config import load_settings
from casework.models import OFFICE_SETTINGS_ID, EmailStatus, OfficeSettings
from casework.reminders.mail import FolderMailer, SmtpMailer, mailer_for
from casework.reminders.scheduler import SchedulerJobs
from tests.reminders.helpers import add_territorial_manager, emails, open_pact_at

UTC = timezone.utc


def _read(path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _text(message) -> str:
    return message.get_content().replace("\r\n", "\n")  # the file has the CRLF lines of RFC 5322


def test_the_configured_transport_is_the_folder_when_one_is_set(tmp_path):
    assert isinstance(mailer_for(load_settings(environ={})), SmtpMailer)
    folder_mailer = mailer_for(load_settings({"mail_folder": str(tmp_path / "mail")}, environ={}))
    assert isinstance(folder_mailer, FolderMailer) and folder_mailer.folder == tmp_path / "mail"


def test_a_due_reminder_is_written_to_the_mail_folder_signed_by_the_office(
        session, session_factory, registry, world, tmp_path):
    """A pact opened 45 days ago: its reminder and escalations are due; one sweep and one mail run."""
    add_territorial_manager(session, world)
    now = datetime.now(UTC)
    pact = open_pact_at(session, registry, world, now - timedelta(days=45))
    session.add(OfficeSettings(id=OFFICE_SETTINGS_ID, ente_name="Unione dei Comuni NET",
                               letterhead="Via Roma 1, Settimo Torinese", logo_type=""))
    session.commit()
    folder = tmp_path / "instance" / "mail"
    settings = load_settings({"mail_folder": str(folder), "digest_hour": 23}, environ={})
    jobs = SchedulerJobs(settings=settings, registry=registry, session_factory=session_factory,
                         mailer=mailer_for(settings), clock=lambda: now)

    jobs.sweep()
    jobs.send_mail()

    sent = emails(session_factory)
    assert sent and {row.status for row in sent} == {EmailStatus.SENT}
    files = sorted(folder.glob("*.eml"))
    assert len(files) == len(sent)
    messages = [_read(path) for path in files]
    assert {message["To"] for message in messages} == {row.to_address for row in sent}
    reminder = next(message for message in messages if message["To"] == "giulia@example.org")
    body = _text(reminder)
    assert f"/pacts/{pact.id}" in body
    assert body.endswith("\n-- \nUnione dei Comuni NET\nVia Roma 1, Settimo Torinese\n")

    # A message sent again (retried from `casework mail retry`) replaces its file.
    FolderMailer(folder).send(reminder)
    assert sorted(folder.glob("*.eml")) == files
    assert not list(folder.glob(".sending-*"))


def test_without_office_settings_the_signature_is_the_product_name(session, session_factory, registry, world, tmp_path):
    now = datetime.now(UTC)
    open_pact_at(session, registry, world, now - timedelta(days=45))
    folder = tmp_path / "mail"
    settings = load_settings({"mail_folder": str(folder), "digest_hour": 23}, environ={})
    jobs = SchedulerJobs(settings=settings, registry=registry, session_factory=session_factory,
                         mailer=mailer_for(settings), clock=lambda: now)
    jobs.sweep()
    jobs.send_mail()
    paths = list(folder.glob("*.eml"))
    assert paths and all(_text(_read(path)).endswith("\n-- \nCasework\n") for path in paths)
