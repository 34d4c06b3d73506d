"""Settings: `config/default.toml`, then an optional extra TOML file, then CASEWORK_* variables.

Read when an application, CLI command or scheduler is built, never at import time, so tests
can pass their own values.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casework import PROJECT_ROOT

DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "default.toml"
ENV_PREFIX = "CASEWORK_"


class ConfigError(Exception):
    """The settings cannot run Casework; the message says which setting and why."""


# The languages Casework speaks: its message catalogue, workflow files' labels and the
# choice each person makes. The one list every module reads (a user's or browser's choice
# outside it falls back to `Settings.default_locale`).
LOCALES = ("it", "en")

CASELOAD_TABLE = "caseload"
# The key of the multiplier for pacts not yet given a priority (before their screening).
NO_PRIORITY = "none"
CASELOAD_PRIORITIES = ("low", "medium", "high", NO_PRIORITY)


@dataclass(frozen=True)
class CaseloadWeights:
    """How much one open pact weighs in a case manager's caseload: its stage's weight times
    its priority's multiplier. The `[caseload]` table of the configuration.

    Pairs rather than dicts, so that Settings stays hashable.
    """

    default_stage_weight: float = 1.0
    stage_weights: tuple[tuple[str, float], ...] = (
        ("referral", 0.5), ("screening", 1.0), ("co_design", 1.5), ("activation", 1.5), ("follow_up", 1.0),
        ("suspended", 0.5), ("equipe_review", 0.5), ("engagement", 1.5), ("individual_project", 1.5),
        ("accompaniment", 1.0), ("verification", 1.0),
    )
    priority_multipliers: tuple[tuple[str, float], ...] = (
        ("low", 0.8), ("medium", 1.0), ("high", 1.5), (NO_PRIORITY, 1.0),
    )

    def stage_weight(self, state: str) -> float:
        return dict(self.stage_weights).get(state, self.default_stage_weight)

    def priority_multiplier(self, priority: str | None) -> float:
        return dict(self.priority_multipliers).get(priority or NO_PRIORITY, 1.0)


def _number(name: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
        raise ConfigError(f"{name}: expected a number >= 0, got {raw!r}")
    return float(raw)


def _caseload_weights(name: str, table: Mapping[str, Any]) -> CaseloadWeights:
    """The `[caseload]` table, already merged across files, checked key by key."""
    known = {"default_stage_weight", "stage_weights", "priority_multipliers"}
    for key in table:
        if key not in known:
            raise ConfigError(f"{name}: unknown key {key!r} in [caseload] (expected one of: {', '.join(sorted(known))})")
    defaults = CaseloadWeights()
    stages = dict(defaults.stage_weights)
    priorities = dict(defaults.priority_multipliers)
    for key, target in (("stage_weights", stages), ("priority_multipliers", priorities)):
        given = table.get(key, {})
        if not isinstance(given, Mapping):
            raise ConfigError(f"{name}: [caseload.{key}] must be a table of names and numbers")
        for item, raw in given.items():
            if key == "priority_multipliers" and item not in CASELOAD_PRIORITIES:
                raise ConfigError(f"{name}: unknown priority {item!r} in [caseload.priority_multipliers] "
                                  f"(expected one of: {', '.join(CASELOAD_PRIORITIES)})")
            target[item] = _number(f"{name}: caseload.{key}.{item}", raw)
    default_weight = _number(f"{name}: caseload.default_stage_weight",
                             table.get("default_stage_weight", defaults.default_stage_weight))
    return CaseloadWeights(default_stage_weight=default_weight, stage_weights=tuple(stages.items()),
                           priority_multipliers=tuple(priorities.items()))


def _merge_caseload(into: dict[str, Any], name: str, raw: Any) -> None:
    # A later file overrides single stages or priorities, not the whole table.
    if isinstance(raw, CaseloadWeights):
        raw = {"default_stage_weight": raw.default_stage_weight, "stage_weights": dict(raw.stage_weights),
               "priority_multipliers": dict(raw.priority_multipliers)}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: [caseload] must be a table")
    _caseload_weights(name, raw)  # refused here, the error names the file it came from
    for key, value in raw.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), Mapping):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    instance_path: str = "instance"
    workflows_path: str = "workflows"
    secret_key: str = ""
    timezone: str = "Europe/Rome"
    default_locale: str = "it"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_use_tls: bool = False
    mail_sender: str = "casework@localhost"
    # Not empty: e-mail is written to this folder, one .eml file a message, instead of SMTP
    # (`casework start` uses instance/mail unless SMTP is configured).
    mail_folder: str = ""
    host: str = "127.0.0.1"
    port: int = 5000
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    max_upload_mb: int = 10
    # Links in e-mails point here; empty: http://<host>:<port>.
    public_url: str = ""
    smtp_timeout_seconds: int = 30
    # Reminders and escalations go out at this local hour of their day; digests at digest_hour.
    reminder_hour: int = 8
    digest_hour: int = 7
    scheduler_sweep_seconds: int = 60
    scheduler_mail_seconds: int = 30
    scheduler_digest_seconds: int = 300
    scheduler_seal_seconds: int = 600
    scheduler_batch_size: int = 200
    # A failed e-mail is tried again after mail_retry_seconds, then twice that, and so on,
    # at most mail_max_attempts times in all; then it is marked failed for an administrator.
    mail_max_attempts: int = 6
    mail_retry_seconds: int = 60
    # How long a sender may hold a message it claimed before another sender may take it over
    # (renewed before each message): longer than smtp_timeout_seconds, the longest a send lasts.
    mail_lease_seconds: int = 300
    # A second database URL (a read replica) for the read-only queries of the indicators and the
    # exports; empty: they read the main database.
    read_database_url: str = ""
    # Production: how many reverse proxies in front of the web processes set X-Forwarded-For,
    # -Proto and -Host (0: none, the headers are ignored, so a client cannot pick its address).
    trusted_proxies: int = 0
    # Roles ("admin", "supervisor", "case_manager") who must sign in with a second factor (TOTP):
    # they are sent to enrol after signing in until they have. Empty: optional for everyone.
    require_second_factor_for: tuple[str, ...] = ()
    # "json" (one object a line, for a log collector) or "text"; empty: json in production.
    log_format: str = ""
    # A process frozen holding a transaction (SIGSTOP, a network partition) must not block the
    # others for ever. PostgreSQL: a statement waits for a lock at most db_lock_timeout_seconds
    # and runs at most db_statement_timeout_seconds (0: no limit); the server ends a scheduler
    # session idle inside a transaction for db_idle_in_transaction_seconds (0: never).
    # SQLite: a writer waits db_lock_timeout_seconds for the write lock (busy_timeout).
    db_lock_timeout_seconds: int = 10
    db_statement_timeout_seconds: int = 30
    db_idle_in_transaction_seconds: int = 30
    caseload: CaseloadWeights = field(default_factory=CaseloadWeights)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" or (not self.log_format and self.is_production)

    @property
    def instance_dir(self) -> Path:
        return _from_root(self.instance_path)

    @property
    def mail_folder_dir(self) -> Path | None:
        return _from_root(self.mail_folder) if self.mail_folder else None

    @property
    def smtp_configured(self) -> bool:
        """An SMTP server other than the default localhost:25 was given."""
        return (self.smtp_host, self.smtp_port) != (Settings.smtp_host, Settings.smtp_port)

    @property
    def workflows_dir(self) -> Path:
        return _from_root(self.workflows_path)

    @property
    def zone(self) -> ZoneInfo:
        """CASEWORK_TIMEZONE: the zone every local day (deadlines, dates shown, reports) is counted in."""
        return ZoneInfo(self.timezone)

    @property
    def locales(self) -> tuple[str, ...]:
        return LOCALES

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_dir / 'casework.sqlite3'}"


def _from_root(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _coerce(name: str, raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if kind is int:
        if isinstance(raw, (bool, float)):
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if kind is tuple:
        # A TOML list, or a comma-separated environment variable ("admin,supervisor").
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {raw!r}")
        return tuple(str(item).strip() for item in items if str(item).strip())
    return str(raw)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge defaults, the optional `CASEWORK_CONFIG` file, CASEWORK_* variables, overrides."""
    environ = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    kinds = {name: type(f.default) for name, f in fields.items()}
    values: dict[str, Any] = {}
    caseload: dict[str, Any] = {}

    files = [DEFAULT_CONFIG_FILE]
    extra = config_file or (Path(environ["CASEWORK_CONFIG"]) if environ.get("CASEWORK_CONFIG") else None)
    if extra is not None:
        files.append(extra)
    for path in files:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        for key, raw in data.items():
            if key not in fields:
                raise ConfigError(f"{path}: unknown setting {key!r}")
            if key == CASELOAD_TABLE:
                _merge_caseload(caseload, str(path), raw)
                continue
            values[key] = _coerce(f"{path}: {key}", raw, kinds[key])

    for key in fields:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            if key == CASELOAD_TABLE:
                raise ConfigError(f"{env_name}: the [caseload] table is set in a TOML file (CASEWORK_CONFIG)")
            values[key] = _coerce(env_name, environ[env_name], kinds[key])

    for key, raw in (overrides or {}).items():
        if key not in fields:
            raise ConfigError(f"unknown setting {key!r}")
        if key == CASELOAD_TABLE:
            _merge_caseload(caseload, "caseload", raw)
            continue
        values[key] = _coerce(key, raw, kinds[key])
    values[CASELOAD_TABLE] = _caseload_weights("caseload", caseload)

    settings = Settings(**values)
    validate_settings(settings)
    return settings


# casework.models.Role's values (a shared module imports no model).
SECOND_FACTOR_ROLES = {"admin", "supervisor", "case_manager"}


def validate_settings(settings: Settings) -> None:
    if settings.env not in {"development", "production", "testing"}:
        raise ConfigError(f"env: expected development, production or testing, got {settings.env!r}")
    if settings.is_production and len(settings.secret_key) < 32:
        raise ConfigError(
            "production mode needs CASEWORK_SECRET_KEY set to a random value of at least "
            "32 characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if settings.is_production and not settings.public_url:
        # Links in e-mails and calendar feeds are built from it: without it they would point to
        # host:port, or worse to whatever Host header a request carried.
        raise ConfigError("production mode needs CASEWORK_PUBLIC_URL, the address users open "
                          "(e.g. https://casework.example.org): links in e-mails and calendar feeds use it")
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(f"public_url: expected an address like https://casework.example.org, "
                              f"got {settings.public_url!r}")
    if not 1 <= settings.port <= 65535:
        raise ConfigError(f"port: expected 1-65535, got {settings.port}")
    if not 1 <= settings.smtp_port <= 65535:
        raise ConfigError(f"smtp_port: expected 1-65535, got {settings.smtp_port}")
    for name in ("reminder_hour", "digest_hour"):
        if not 0 <= getattr(settings, name) <= 23:
            raise ConfigError(f"{name}: expected an hour 0-23, got {getattr(settings, name)}")
    for name in (
        "smtp_timeout_seconds", "scheduler_sweep_seconds", "scheduler_mail_seconds", "scheduler_digest_seconds",
        "scheduler_seal_seconds", "scheduler_batch_size", "mail_max_attempts", "mail_retry_seconds", "mail_lease_seconds",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name}: expected a whole number >= 1, got {getattr(settings, name)}")
    if settings.mail_lease_seconds <= settings.smtp_timeout_seconds:
        # The lease is renewed before each message and a send lasts at most the SMTP timeout
        # in all (casework.reminders.mail), so a lease longer than that covers what is sent.
        raise ConfigError("mail_lease_seconds must be longer than smtp_timeout_seconds, or a slow send could be repeated")
    if settings.trusted_proxies < 0:
        raise ConfigError(f"trusted_proxies: expected a whole number >= 0, got {settings.trusted_proxies}")
    unknown_roles = set(settings.require_second_factor_for) - SECOND_FACTOR_ROLES
    if unknown_roles:
        raise ConfigError(f"require_second_factor_for: expected roles among {', '.join(sorted(SECOND_FACTOR_ROLES))}, "
                          f"got {', '.join(sorted(unknown_roles))}")
    if settings.log_format not in {"", "json", "text"}:
        raise ConfigError(f"log_format: expected json or text (or empty), got {settings.log_format!r}")
    if settings.db_lock_timeout_seconds < 1:
        raise ConfigError(f"db_lock_timeout_seconds: expected a whole number >= 1, got {settings.db_lock_timeout_seconds}")
    for name in ("db_statement_timeout_seconds", "db_idle_in_transaction_seconds"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name}: expected a whole number >= 0 (0: no limit), got {getattr(settings, name)}")
    if settings.default_locale not in LOCALES:
        raise ConfigError(f"default_locale: expected {' or '.join(LOCALES)}, got {settings.default_locale!r}")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"timezone: unknown time zone {settings.timezone!r}") from None
