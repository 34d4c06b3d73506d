"""The `casework` command: database, workflows, demo data, the server and the scheduler."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from casework.config import ConfigError, Settings, load_settings
from casework.workflow import check_directory


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(f"configuration: {error}") from None


@click.group()
def main() -> None:
    """Casework: case-management workflow engine for territorial welfare programmes."""


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or update the schema to REVISION."""
    from casework import migrate

    settings = _settings()
    migrate.upgrade(settings.sqlalchemy_url, revision)
    click.echo(f"database at revision {revision}: {_safe_url(settings)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (e.g. -1, or base)."""
    from casework import migrate

    settings = _settings()
    migrate.downgrade(settings.sqlalchemy_url, revision)
    click.echo(f"database downgraded to {revision}")


@main.group()
def workflows() -> None:
    """Workflow definition files."""


@workflows.command("check")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of workflow files (default: the configured one).")
def workflows_check(directory: Path | None) -> None:
    """Validate every workflow file; print each problem with file and line; exit 1 on any."""
    directory = directory or _settings().workflows_dir
    definitions, problems = check_directory(directory)
    for problem in problems:
        click.echo(str(problem), err=True)
    for definition in definitions:
        click.echo(
            f"ok {definition.source.name}: {definition.name} v{definition.version}, "
            f"{len(definition.states)} states, {len(definition.events)} events"
        )
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


def _load_demo(settings: Settings):
    from casework import migrate
    from casework.db import make_engine, make_session_factory, unit_of_work
    from casework.demo import load_demo
    from casework.workflow import WorkflowRegistry

    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    migrate.upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return load_demo(session, registry, now=datetime.now(UTC), zone=settings.zone)
    finally:
        engine.dispose()


def _print_accounts(summary, settings: Settings) -> None:
    state = "loaded" if summary.created else "already present"
    click.echo(f"Demo data {state}: {summary.beneficiaries} beneficiaries, {summary.pacts} pacts ({_safe_url(settings)}).")
    click.echo("Demo accounts (username / password / role):")
    for account in summary.accounts:
        click.echo(f"  {account.username:<14} {account.password:<32} {account.role:<13} {account.territory}")


@main.command()
def demo() -> None:
    """Create the schema if needed and load the demo data (safe to run again)."""
    settings = _settings()
    _print_accounts(_load_demo(settings), settings)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from settings).")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.option("--with-scheduler", is_flag=True, help="Also run the reminder scheduler in this process (demo only).")
def serve(host: str | None, port: int | None, with_scheduler: bool) -> None:
    """Run the web application (development server)."""
    _serve(_settings(), host, port, with_scheduler)


@main.command()
def scheduler() -> None:
    """Run the reminder scheduler: reminders, escalations, e-mail and daily digests.

    Run exactly one per installation beside the web processes (a second one is harmless:
    they take turns). Stops on SIGTERM or Ctrl+C.
    """
    import logging

    from casework.reminders.scheduler import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job run
    settings = _settings()
    click.echo(f"Casework scheduler running on {_safe_url(settings)} (Ctrl+C to stop)")
    run_scheduler(settings)


@main.group()
def mail() -> None:
    """The e-mail outbox."""


@mail.command("failed")
@click.option("--limit", default=50, show_default=True)
def mail_failed(limit: int) -> None:
    """List e-mails given up on after their last retry (exit 1 if there are any)."""
    from casework.db import make_engine, make_session_factory
    from casework.reminders import failed_emails

    engine = make_engine(_settings().sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            failed = failed_emails(session, limit=limit)
            for email in failed:
                click.echo(f"{email.id}\t{email.created_at:%Y-%m-%d %H:%M}\t{email.to_address}\t{email.kind}\t"
                           f"{email.attempts} attempts\t{email.last_error}")
    finally:
        engine.dispose()
    click.echo(f"{len(failed)} failed e-mail(s)", err=True)
    if failed:
        sys.exit(1)


@mail.command("retry")
@click.argument("email_id", type=int)
def mail_retry(email_id: int) -> None:
    """Put a failed e-mail back in the outbox; the scheduler sends it at its next run."""
    from casework.db import make_engine, make_session_factory, unit_of_work
    from casework.reminders import retry_email

    engine = make_engine(_settings().sqlalchemy_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            queued = retry_email(session, email_id, now=datetime.now(UTC))
    finally:
        engine.dispose()
    if not queued:
        raise click.ClickException(f"e-mail {email_id} is not a failed e-mail")
    click.echo(f"e-mail {email_id} queued again")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="The supervisor whose territory and programmes apply.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be imported; write nothing.")
@click.option("--locale", default="it", show_default=True, help="Language of the problems (it, en).")
def import_caseload(file: Path, username: str, dry_run: bool, locale: str) -> None:
    """Bring in an existing caseload (CSV or XLSX); all or nothing; exit 1 on any problem."""
    from sqlalchemy import func, select

    from casework.administration import caseload_import as caseload
    from casework.clock import Clock
    from casework.db import make_engine, make_session_factory
    from casework.models import User
    from casework.workflow import WorkflowRegistry

    settings = _settings()
    try:
        table = caseload.read_table(file.name, file.read_bytes())
    except caseload.UnreadableFile as error:
        raise click.ClickException(caseload.unreadable_message(error, locale)) from None
    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            user = session.scalars(select(User).where(func.lower(User.username) == username.lower())).one_or_none()
            if user is None:
                raise click.ClickException(f"no user {username!r}")
            clock = Clock(datetime.now(UTC), settings.zone)
            try:
                with click.progressbar(length=len(table.rows), label="checking" if dry_run else "importing",
                                       file=sys.stderr) as bar:
                    if dry_run:
                        plan = caseload.dry_run(session, registry, user, table, clock=clock, locale=locale)
                        bar.update(len(table.rows))
                    else:
                        plan, _ = caseload.import_caseload(session, registry, user, table, clock=clock,
                                                           filename=file.name, locale=locale, progress=bar.update)
                        session.commit()
            except caseload.ImportNotAllowed:
                raise click.ClickException(f"{username} is not an active supervisor") from None
            except caseload.CaseloadRefused as refused:
                session.rollback()
                plan = refused.plan
    finally:
        engine.dispose()
    headers = dict(caseload.HEADERS)
    if plan.problems:
        click.echo(f"{'row':>6}  {'column':<20} {'value':<24} problem")
        for problem in plan.problems:
            click.echo(f"{problem.row:>6}  {headers.get(problem.column, problem.column):<20} "
                       f"{problem.value[:24]:<24} {caseload.problem_message(problem, locale)}")
    counts = plan.counts
    done = "nothing written" if plan.problems else ("dry run: nothing written" if dry_run else "imported")
    click.echo(f"{len(plan.rows)} rows; people created {counts['people_created']}, matched {counts['people_matched']}; "
               f"pacts created {counts['pacts_created']}, matched {counts['pacts_matched']} ({done})")
    if plan.problems:
        click.echo(f"{len(plan.problems)} problem(s): nothing imported", err=True)
        sys.exit(1)


def _serve(settings: Settings, host: str | None, port: int | None, with_scheduler: bool = False) -> None:
    from werkzeug.serving import run_simple

    from casework.web import create_app

    if settings.is_production:
        raise click.ClickException("the built-in server is for development; run production under gunicorn 'casework.web:create_app()'")
    if not settings.secret_key:
        import secrets

        # A development run without a configured key gets a random one: sessions end on restart.
        settings = load_settings({"secret_key": secrets.token_urlsafe(48)})
    app = create_app(settings)
    host = host or settings.host
    port = port or settings.port
    background = None
    if with_scheduler:
        from casework.reminders.scheduler import build_scheduler, make_jobs

        # Demo convenience only: in production the scheduler is its own process (`casework scheduler`).
        jobs, _ = make_jobs(settings)
        background = build_scheduler(jobs, blocking=False)
        background.start()
        click.echo("The reminder scheduler runs in this process too.")
    click.echo(f"Casework is running: open http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if background is not None:
            background.shutdown(wait=False)


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--with-scheduler", is_flag=True, help="Also run the reminder scheduler in this process.")
def start(host: str | None, port: int | None, with_scheduler: bool) -> None:
    """Everything a newcomer needs: schema, demo data, accounts printed, server started."""
    settings = _settings()
    _print_accounts(_load_demo(settings), settings)
    _serve(settings, host, port, with_scheduler)


if __name__ == "__main__":
    main()
