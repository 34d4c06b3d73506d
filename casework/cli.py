"""The `casework` command: database, workflows, demo data, the server and the scheduler."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from casework.config import ConfigError, Settings, load_settings
from casework.workflow import check_directory


def _settings() -> Settings:
    from casework.logs import configure_logging

    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(f"configuration: {error}") from None
    # Log records (not the command's own output) in the format the web workers use.
    configure_logging(settings.logs_as_json)
    return settings


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
    if revision == "head":
        _seed_reference_data(settings)
    click.echo(f"database at revision {revision}: {_safe_url(settings)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (e.g. -1, or base)."""
    from casework import migrate

    settings = _settings()
    migrate.downgrade(settings.sqlalchemy_url, revision)
    click.echo(f"database downgraded to {revision}")


@main.command()
@click.option("--territory", "territory_name", default=None, help="Name of the first territory, e.g. \"Unione NET\".")
@click.option("--kind", default="unione", show_default=True, help="Its kind: ambito, unione or consorzio.")
@click.option("--comuni", default="",
              help="Its comuni by ISTAT code and name: 001265=Settimo Torinese,001314=Volpiano.")
@click.option("--territories", "territories_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A TOML file with the tree of territories and their comuni (see the README).")
def init(territory_name: str | None, kind: str, comuni: str, territories_file: Path | None) -> None:
    """First run for an office: schema, territories and the first administrator (no demo data).

    The administrator is asked for, or read from CASEWORK_ADMIN_USERNAME, CASEWORK_ADMIN_FULL_NAME,
    CASEWORK_ADMIN_EMAIL and CASEWORK_ADMIN_PASSWORD for automated installs. Safe to run again:
    once an administrator exists it changes nothing.
    """
    import os

    from casework import migrate
    from casework.administration import installation
    from casework.administration.comuni import comune_name
    from casework.db import make_engine, make_session_factory, unit_of_work
    from casework.errors import InvalidInput

    settings = _settings()
    specs: list[installation.TerritorySpec] = []
    try:
        if territories_file is not None:
            specs.extend(installation.load_territories_file(territories_file, names=comune_name))
        if territory_name is not None:
            specs.append(installation.territory_from_options(territory_name, kind, comuni, names=comune_name))
        elif comuni:
            raise installation.TerritoryFileError(["--comuni: give the territory they belong to with --territory"])
    except installation.TerritoryFileError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException("nothing was created: correct the territories and run casework init again") from None

    automated = installation.admin_from_environment(os.environ)
    if automated is not None:
        errors = installation.admin_errors(automated)
        if errors:
            for name, code in errors.items():
                variable = installation.ADMIN_ENVIRONMENT[name]
                click.echo(f"{variable}: {installation.admin_message(name, code)}", err=True)
            raise click.ClickException("nothing was created: correct the CASEWORK_ADMIN_* variables and run "
                                       "casework init again")

    migrate.upgrade(settings.sqlalchemy_url)
    _seed_reference_data(settings)
    click.echo(f"Database ready: {_safe_url(settings)}")
    sign_in = f"{settings.base_url}/login"
    engine = make_engine(settings.sqlalchemy_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            existing = installation.first_administrator(session)
            has_territory = session.scalar(_any_root_territory()) is not None
        if existing is not None:
            click.echo(f"Casework is already initialised: the administrator {existing.username} exists; "
                       "nothing was changed.")
            click.echo(f"Sign in at {sign_in}")
            return
        if not specs and not has_territory:
            if automated is not None:
                raise click.ClickException("no territory: give --territory NAME --kind KIND (or --territories FILE)")
            specs.append(_ask_territory(installation))
        admin = automated if automated is not None else _ask_administrator(installation)
        now = datetime.now(UTC)
        try:
            with unit_of_work(factory) as session:
                report = installation.create_territories(session, specs, now=now)
                home = report.created[0] if report.created else (
                    report.kept[0] if report.kept else session.scalars(_any_root_territory()).first())
                user = installation.create_first_administrator(session, admin, home, now=now,
                                                               locale=settings.default_locale)
                username, home_name = user.username, home.name
        except InvalidInput as error:
            for name, code in error.errors.items():
                click.echo(f"{name}: {installation.admin_message(name, code)}", err=True)
            raise click.ClickException("the first administrator was not created") from None
    finally:
        engine.dispose()
    for line in report.conflicts:
        click.echo(f"note: {line}", err=True)
    if report.created:
        comuni_count = sum(1 for t in report.created if t.istat_code)
        click.echo(f"Territories created: {len(report.created) - comuni_count}, comuni: {comuni_count}.")
    click.echo(f"Administrator {username} created ({home_name}).")
    click.echo(f"Sign in at {sign_in} and create the accounts of your colleagues from the administration pages.")


def _any_root_territory():
    from sqlalchemy import select

    from casework.models import Territory

    return select(Territory).where(Territory.parent_id.is_(None)).order_by(Territory.id).limit(1)


def _ask_territory(installation):
    click.echo("Your territory: the ambito, unione or consorzio your office serves (comuni can be added later).")
    while True:
        name = click.prompt("Territory name")
        kind = click.prompt("Kind (ambito, unione, consorzio)", default="unione")
        try:
            return installation.territory_from_options(name, kind, "")
        except installation.TerritoryFileError as error:
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)


def _ask_administrator(installation):
    click.echo("The first administrator (they will create everyone else's account):")

    def ask(label: str, check, normalise=str.strip) -> str:
        while True:
            value = normalise(click.prompt(label))
            code = check(value)
            if code is None:
                return value
            click.echo(f"  {installation.admin_message(field_of[label], code)}", err=True)

    field_of = {"Username": "username", "Full name": "full_name", "E-mail": "email"}
    username = ask("Username", installation.check_username, lambda text: text.strip().lower())
    full_name = ask("Full name", installation.check_full_name, lambda text: " ".join(text.split()))
    email = ask("E-mail", installation.check_email)
    while True:
        password = click.prompt(f"Password (at least {installation.MIN_PASSWORD_LENGTH} characters)", hide_input=True)
        code = installation.check_password(password, username)
        if code is not None:
            click.echo(f"  {installation.admin_message('password', code)}", err=True)
            continue
        again = click.prompt("Password again", hide_input=True)
        if again != password:
            click.echo(f"  {installation.admin_message('password', 'mismatch')}", err=True)
            continue
        return installation.AdminInput(username, full_name, email, password, again)


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


def _seed_reference_data(settings: Settings) -> None:
    """The reference data the schema needs filled (the services' taxonomy), after every upgrade."""
    from casework.db import make_engine, make_session_factory, unit_of_work
    from casework.services import seed_taxonomy

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            seed_taxonomy(session)
    finally:
        engine.dispose()


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
    _seed_reference_data(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return load_demo(session, registry, now=datetime.now(UTC), zone=settings.zone)
    finally:
        engine.dispose()


def _print_accounts(summary, settings: Settings) -> None:
    state = "loaded" if summary.created else "already present"
    click.echo(f"Demo data {state}: {summary.beneficiaries} beneficiaries, {summary.pacts} pacts, "
               f"{summary.services} services ({_safe_url(settings)}).")
    click.echo("Demo accounts (username / password / role):")
    for account in summary.accounts:
        click.echo(f"  {account.username:<14} {account.password:<32} {account.role:<13} {account.territory}")


@main.command()
@click.option("--scale", "scale", type=click.IntRange(min=1), default=None, metavar="N",
              help="Instead: N beneficiaries with pacts and histories, loaded in bulk (an empty database only).")
def demo(scale: int | None) -> None:
    """Create the schema if needed and load the demo data (safe to run again)."""
    settings = _settings()
    if scale is not None:
        _load_scale(settings, scale)
        return
    _print_accounts(_load_demo(settings), settings)


def _load_scale(settings: Settings, beneficiaries: int) -> None:
    from casework.demo import ScaleRefused, load_scale

    try:
        summary = load_scale(settings, beneficiaries, progress=True)
    except ScaleRefused:
        raise click.ClickException(
            f"{_safe_url(settings)} already holds beneficiaries or pacts: --scale loads into an empty database "
            "only (point CASEWORK_DATABASE_URL at a new one)") from None
    click.echo(f"Scale data loaded: {summary.beneficiaries} beneficiaries, {summary.pacts} pacts in "
               f"{summary.seconds:.1f} s ({_safe_url(settings)}).")
    click.echo(f"Busiest case manager: {summary.busy_manager}; a long history: pact {summary.long_pact_id}; "
               f"indicators: programme {summary.programme_id}, {summary.year}; search: {summary.search_term}.")
    click.echo("Demo accounts (username / password / role):")
    for account in summary.accounts:
        click.echo(f"  {account.username:<14} {account.password:<32} {account.role:<13} {account.territory}")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from settings).")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.option("--with-scheduler", is_flag=True, help="Also run the reminder scheduler in this process (demo only).")
def serve(host: str | None, port: int | None, with_scheduler: bool) -> None:
    """Run the web application (development server)."""
    settings = _settings()
    _serve(_demo_mail(settings) if with_scheduler else settings, host, port, with_scheduler)


def _demo_mail(settings: Settings) -> Settings:
    """Without an SMTP server configured, the demo's e-mail goes to instance/mail as .eml files."""
    import dataclasses

    if settings.mail_folder_dir is None and not settings.smtp_configured:
        return dataclasses.replace(settings, mail_folder=str(settings.instance_dir / "mail"))
    return settings


@main.command()
def scheduler() -> None:
    """Run the reminder scheduler: reminders, escalations, e-mail and daily digests.

    Run exactly one per installation beside the web processes (a second one is harmless:
    they take turns). Stops on SIGTERM or Ctrl+C.
    """
    from casework.reminders.scheduler import run_scheduler

    settings = _settings()  # logs as the web workers do (configure_logging)
    click.echo(f"Casework scheduler running on {_safe_url(settings)} (Ctrl+C to stop)")
    run_scheduler(settings, daily_tasks=_daily_tasks())


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


def _port_is_free(host: str, port: int) -> bool:
    import socket

    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        return True  # an unknown host: let the server say so
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def _check_port(host: str, port: int) -> None:
    """A busy port stops here, with the option that gets round it."""
    if _port_is_free(host, port):
        return
    other = next((candidate for candidate in range(port + 1, min(port + 50, 65536))
                  if _port_is_free(host, candidate)), port + 1)
    raise click.ClickException(f"port {port} is already in use (by another program, or another Casework): "
                               f"start with --port {other}")


def _serve(settings: Settings, host: str | None, port: int | None, with_scheduler: bool = False,
           *, demo: bool = False) -> None:
    import dataclasses
    import logging

    from werkzeug.serving import run_simple

    from casework.web import create_app
    from casework.web.production import BannerlessRequestHandler

    if settings.is_production:
        raise click.ClickException("the built-in server is for development; run production under gunicorn 'casework.web:create_app()'")
    host = host or settings.host
    port = port or settings.port
    _check_port(host, port)
    # Links in e-mails point to this server unless a public address is configured.
    settings = dataclasses.replace(settings, host=host, port=port)
    if not settings.secret_key:
        import secrets

        # A development run without a configured key gets a random one: sessions end on restart.
        settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(48))
    app = create_app(settings)
    background = engine = None
    if with_scheduler:
        from casework.reminders.scheduler import build_scheduler, make_jobs

        # Demo convenience only: in production the scheduler is its own process (`casework scheduler`).
        jobs, engine = make_jobs(settings, daily_tasks=_daily_tasks())
        if demo:
            # Deadlines, reminders and notifications are there when the first page opens.
            jobs.run_all()
        background = build_scheduler(jobs, blocking=False)
        background.start()
        click.echo("The reminder scheduler runs in this process too.")
    if settings.mail_folder_dir is not None:
        click.echo(f"E-mail is not sent: each message is written to {settings.mail_folder_dir} as an .eml file.")
    click.echo(f"Casework is running: open http://{host}:{port}/ (Ctrl+C to stop)")
    # Casework writes its own access line (casework.access, with the request id): not the dev
    # server's too. Its warnings and errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False,
                   request_handler=BannerlessRequestHandler)
    except SystemExit:
        # The port was taken between the check and the start: werkzeug said why and gave up.
        raise click.ClickException(f"the server could not start on port {port}: start with --port {port + 1}") from None
    finally:
        if background is not None:
            background.shutdown(wait=False)
        if engine is not None:
            engine.dispose()


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int, help="Port (default from settings, 5000).")
@click.option("--with-scheduler", is_flag=True, hidden=True, help="Kept for old scripts: the demo always runs it.")
def start(host: str | None, port: int | None, with_scheduler: bool) -> None:
    """The demo: schema, demo data, accounts printed, reminder scheduler and web server in one process.

    E-mail goes to instance/mail (one .eml file a message) unless an SMTP server is configured.
    """
    settings = _settings()
    _check_port(host or settings.host, port or settings.port)  # before the demo data: fail fast
    settings = _demo_mail(settings)
    _print_accounts(_load_demo(settings), settings)
    _serve(settings, host, port, with_scheduler=True, demo=True)


# --- Backup and restore (SQLite; PostgreSQL: pg_dump and pg_restore, docs/backup.md) ------


def _documents_dir(settings: Settings) -> Path:
    from casework.pacts.documents import documents_dir

    return documents_dir(settings.instance_dir)


@main.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def backup(destination: Path) -> None:
    """Copy the live SQLite database and its documents into DESTINATION/casework-<UTC time>/.

    Safe while Casework runs: writers are not held up. On PostgreSQL use pg_dump (docs/backup.md).
    Exit 1 if a document the database names is missing from the documents folder (the backup is
    still written, and lists them).
    """
    from casework.administration import backup as backups

    settings = _settings()
    try:
        database = backups.sqlite_path(settings.sqlalchemy_url, "backup")
        with click.progressbar(length=1, label="copying the database", file=sys.stderr) as bar:
            def progress(remaining: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(total - remaining - bar.pos)

            result = backups.backup_sqlite(database, _documents_dir(settings), destination,
                                           now=datetime.now(UTC), progress=progress)
    except backups.BackupRefused as refused:
        raise click.ClickException(f"no backup made: {refused}") from None
    manifest = result.manifest
    tables = manifest["tables"]
    size = sum(entry["bytes"] for entry in manifest["files"].values())
    click.echo(f"backup written: {result.path}")
    click.echo(f"schema revision {manifest['schema_revision']}; {tables.get('pact', 0)} pacts, "
               f"{tables.get('beneficiary', 0)} beneficiaries, {manifest['documents']} documents; "
               f"{size / 1_048_576:.1f} MB")
    if result.missing_documents:
        for name in result.missing_documents:
            click.echo(f"missing from the documents folder: {name}", err=True)
        click.echo(f"{len(result.missing_documents)} document(s) named by the database were already missing "
                   "from the documents folder: the backup lists them in its manifest", err=True)
        sys.exit(1)


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an existing database (kept aside as casework.sqlite3.before-restore-<time>).")
def restore(source: Path, force: bool) -> None:
    """Bring back the backup in SOURCE (a casework-<time> folder) after checking it.

    Checks the manifest, every file's SHA-256, SQLite's integrity check and the schema revision
    before changing anything. Stop the web processes and the scheduler first.
    """
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from casework import migrate
    from casework.administration import backup as backups

    settings = _settings()
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))

    def known(revision: str) -> bool:
        try:
            return scripts.get_revision(revision) is not None
        except CommandError:
            return False

    try:
        database = backups.sqlite_path(settings.sqlalchemy_url, "restore")
        result = backups.restore_sqlite(source, database, _documents_dir(settings), now=datetime.now(UTC),
                                        force=force, known_revision=known, head=scripts.get_current_head())
    except backups.RestoreRefused as refused:
        raise click.ClickException(f"nothing restored: {refused}") from None
    click.echo(f"restored {result.database} and {result.documents} documents from {source}")
    if result.database_aside is not None:
        click.echo(f"the database it replaced is kept as {result.database_aside}")
    if result.documents_aside is not None:
        click.echo(f"the documents folder it replaced is kept as {result.documents_aside}")
    if not result.at_head:
        click.echo(f"the backup's schema is at revision {result.revision}, older than this Casework's: "
                   "run casework db upgrade before starting it")


@main.group()
def audit() -> None:
    """The integrity chain of the access log and the administrative log."""


@audit.command("seal")
def audit_seal() -> None:
    """Chain every entry written since the last sealing (the scheduler also does it)."""
    from casework.db import make_engine, make_session_factory
    from casework.security.audit_chain import seal

    engine = make_engine(_settings().sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            for log, count in seal(session).items():
                click.echo(f"{log}: {count} entries sealed")
    finally:
        engine.dispose()


@audit.command("verify")
@click.option("--no-seal", is_flag=True, help="Verify only, without sealing the new entries first.")
def audit_verify(no_seal: bool) -> None:
    """Recompute both chains; exit 1 naming the first broken entry. Keep the printed heads elsewhere."""
    from casework.db import make_engine, make_session_factory
    from casework.security.audit_chain import seal, verify

    engine = make_engine(_settings().sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            if not no_seal:
                seal(session)
            reports = verify(session)
    finally:
        engine.dispose()
    for report in reports:
        if report.intact:
            click.echo(f"{report.log}: intact, {report.sealed} sealed, {report.unsealed} not yet sealed; "
                       f"head {report.head_position} {report.head_hash}")
        else:
            click.echo(f"{report.log}: BROKEN: {report.reason}; intact up to position {report.head_position} "
                       f"{report.head_hash}; {report.unsealed} not yet sealed")
    if not all(report.intact for report in reports):
        sys.exit(1)


def _daily_tasks() -> tuple:
    """The other domains' daily work the scheduler runs with its digest (it may not import them)."""
    from casework.people import propose_erasures

    return (propose_erasures,)


if __name__ == "__main__":
    main()
