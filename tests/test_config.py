"""Settings: defaults, CASEWORK_* variables, an extra TOML file, and the values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework import PROJECT_ROOT
from casework.config import ConfigError, load_settings

LONG_KEY = "k" * 32


def test_defaults_use_a_sqlite_file_in_the_instance_folder():
    settings = load_settings(environ={})
    assert settings.env == "development" and not settings.is_production
    assert settings.database_url == ""
    assert settings.instance_dir == PROJECT_ROOT / "instance"
    assert settings.sqlalchemy_url == f"sqlite:///{PROJECT_ROOT / 'instance' / 'casework.sqlite3'}"
    assert settings.workflows_dir == PROJECT_ROOT / "workflows"
    assert (settings.timezone, settings.default_locale) == ("Europe/Rome", "it")
    assert str(settings.zone) == "Europe/Rome"
    assert (settings.smtp_port, settings.smtp_use_tls, settings.port) == (25, False, 5000)


def test_the_sqlite_file_follows_the_instance_folder(tmp_path):
    settings = load_settings(environ={"CASEWORK_INSTANCE_PATH": str(tmp_path)})
    assert settings.instance_dir == tmp_path
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'casework.sqlite3'}"


def test_environment_variables_override_the_defaults():
    settings = load_settings(environ={
        "CASEWORK_DATABASE_URL": "postgresql+psycopg://u:p@db/casework",
        "CASEWORK_SMTP_PORT": "587",
        "CASEWORK_SMTP_USE_TLS": "yes",
        "CASEWORK_TIMEZONE": "Europe/Berlin",
        "CASEWORK_DEFAULT_LOCALE": "en",
        "CASEWORK_ENV": "testing",
        "UNRELATED": "ignored",
    })
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db/casework"
    assert settings.smtp_port == 587 and isinstance(settings.smtp_port, int)
    assert settings.smtp_use_tls is True
    assert (settings.timezone, settings.default_locale, settings.env) == ("Europe/Berlin", "en", "testing")


@pytest.mark.parametrize("raw,expected", [
    ("1", True), ("true", True), ("On", True), (" YES ", True),
    ("0", False), ("false", False), ("off", False), ("no", False), ("", False),
])
def test_boolean_spellings(raw, expected):
    assert load_settings(environ={"CASEWORK_SMTP_USE_TLS": raw}).smtp_use_tls is expected


def test_relative_paths_are_taken_from_the_project_root_and_absolute_ones_kept(tmp_path):
    settings = load_settings(environ={"CASEWORK_WORKFLOWS_PATH": "somewhere/else",
                                      "CASEWORK_INSTANCE_PATH": str(tmp_path)})
    assert settings.workflows_dir == PROJECT_ROOT / "somewhere" / "else"
    assert settings.instance_dir == tmp_path


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "casework.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_extra_toml_file_named_by_casework_config(tmp_path):
    path = _toml(tmp_path, 'smtp_host = "mail.example.org"\nsmtp_port = 465\nsmtp_use_tls = true\n')
    settings = load_settings(environ={"CASEWORK_CONFIG": str(path)})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_use_tls) == ("mail.example.org", 465, True)
    assert settings.timezone == "Europe/Rome"  # untouched keys keep their defaults


def test_variables_beat_the_file_and_overrides_beat_both(tmp_path):
    path = _toml(tmp_path, "smtp_port = 465\nport = 8000\n")
    environ = {"CASEWORK_CONFIG": str(path), "CASEWORK_SMTP_PORT": "2525", "CASEWORK_PORT": "8080"}
    settings = load_settings({"port": 9000}, environ=environ)
    assert (settings.smtp_port, settings.port) == (2525, 9000)


def test_config_file_argument_is_used_without_the_variable(tmp_path):
    settings = load_settings(environ={}, config_file=_toml(tmp_path, 'mail_sender = "noreply@example.org"\n'))
    assert settings.mail_sender == "noreply@example.org"


def test_a_missing_config_file_is_refused(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as error:
        load_settings(environ={"CASEWORK_CONFIG": str(missing)})
    assert str(missing) in str(error.value)


def test_an_invalid_toml_file_is_refused_with_its_path(tmp_path):
    path = _toml(tmp_path, "port = = 3\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"CASEWORK_CONFIG": str(path)})
    assert str(path) in str(error.value)


@pytest.mark.parametrize("variable,value,words", [
    ("CASEWORK_PORT", "eighty", ["CASEWORK_PORT", "whole number", "'eighty'"]),
    ("CASEWORK_SMTP_PORT", "25.5", ["CASEWORK_SMTP_PORT", "whole number"]),
    ("CASEWORK_SMTP_USE_TLS", "maybe", ["CASEWORK_SMTP_USE_TLS", "true or false", "'maybe'"]),
    ("CASEWORK_TIMEZONE", "Mars/Olympus", ["timezone", "unknown time zone", "'Mars/Olympus'"]),
    ("CASEWORK_TIMEZONE", "", ["timezone", "unknown time zone"]),
    ("CASEWORK_ENV", "staging", ["env", "'staging'"]),
])
def test_bad_values_are_refused_naming_the_setting(variable, value, words):
    with pytest.raises(ConfigError) as error:
        load_settings(environ={variable: value})
    assert all(word in str(error.value) for word in words), str(error.value)


def test_a_time_zone_folder_is_refused_as_a_config_error():
    with pytest.raises(ConfigError, match="timezone"):
        load_settings(environ={"CASEWORK_TIMEZONE": "Europe"})


def test_an_unknown_key_in_the_file_is_refused(tmp_path):
    path = _toml(tmp_path, 'databse_url = "sqlite:///x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'databse_url'") as error:
        load_settings(environ={"CASEWORK_CONFIG": str(path)})
    assert str(path) in str(error.value)


def test_a_bad_value_in_the_file_names_file_and_key(tmp_path):
    path = _toml(tmp_path, 'smtp_port = "twenty-five"\n')
    with pytest.raises(ConfigError, match="smtp_port: expected a whole number") as error:
        load_settings(environ={"CASEWORK_CONFIG": str(path)})
    assert str(path) in str(error.value)


def test_an_unknown_override_is_refused():
    with pytest.raises(ConfigError, match="unknown setting 'secret'"):
        load_settings({"secret": "x"}, environ={})


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="CASEWORK_SECRET_KEY"):
        load_settings(environ={"CASEWORK_ENV": "production"})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings(environ={"CASEWORK_ENV": "production", "CASEWORK_SECRET_KEY": LONG_KEY[:-1]})


def test_production_accepts_a_long_secret_key():
    settings = load_settings(environ={"CASEWORK_ENV": "production", "CASEWORK_SECRET_KEY": LONG_KEY,
                                      "CASEWORK_PUBLIC_URL": "https://casework.example.org"})
    assert settings.is_production and settings.secret_key == LONG_KEY


def test_production_refuses_to_start_without_a_public_url():
    with pytest.raises(ConfigError, match="CASEWORK_PUBLIC_URL"):
        load_settings(environ={"CASEWORK_ENV": "production", "CASEWORK_SECRET_KEY": LONG_KEY})


@pytest.mark.parametrize("address", ["casework.example.org", "ftp://casework.example.org", "https://",
                                     "https://casework.example.org/?next=x"])
def test_a_public_url_that_is_not_an_address_is_refused(address):
    with pytest.raises(ConfigError, match="public_url"):
        load_settings(environ={"CASEWORK_PUBLIC_URL": address})


def test_development_runs_without_a_secret_key():
    assert load_settings(environ={"CASEWORK_ENV": "development"}).secret_key == ""


def test_settings_are_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("CASEWORK_PORT", "5123")
    assert load_settings().port == 5123
    monkeypatch.setenv("CASEWORK_PORT", "5124")
    assert load_settings().port == 5124


def test_the_tests_write_their_dates_in_the_default_time_zone():
    from tests.conftest import ZONE

    assert load_settings(environ={}).zone == ZONE


def test_the_supported_locales_are_one_list_in_the_settings():
    from casework.config import LOCALES

    assert load_settings(environ={}).locales == LOCALES
    assert load_settings(environ={"CASEWORK_DEFAULT_LOCALE": "en"}).default_locale == "en"
    with pytest.raises(ConfigError, match="default_locale"):
        load_settings(environ={"CASEWORK_DEFAULT_LOCALE": "fr"})


def test_a_non_default_time_zone_moves_the_local_day_of_a_deadline(session, registry, world):
    """CASEWORK_TIMEZONE reaches the deadlines: nothing falls back to Rome on its own."""
    from datetime import UTC, date, datetime

    from casework.clock import Clock
    from casework.models import Beneficiary, Gender
    from casework.pacts import operations as ops
    from casework.reminders.deadlines import StatePosition, state_deadlines

    late_evening = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)  # Tuesday in London, already Wednesday in Rome
    due = {}
    for environ in ({}, {"CASEWORK_TIMEZONE": "Europe/London"}):
        settings = load_settings(environ=environ)
        person = Beneficiary(first_name="Anna", last_name=settings.timezone, gender=Gender.FEMALE, comune=world.comune)
        pact = ops.open_pact(session, registry, beneficiary=person, programme=world.programme,
                             case_manager=world.manager, actor=world.manager, clock=Clock(late_evening, settings.zone))
        definition = registry.engine_for(pact).definition
        [screening] = [d for d in state_deadlines(session, definition, StatePosition.of(pact), settings.zone)
                       if d.rule.id == "screening_due"]
        assert pact.next_deadline_at == screening.due_at
        due[settings.timezone] = (screening.anchor_on, screening.due_on, screening.due_at)
    # 10 working days from the local day the pact was opened, due at the end of that local day.
    assert due["Europe/Rome"] == (date(2026, 3, 4), date(2026, 3, 18), datetime(2026, 3, 18, 22, 59, 59, 999999, tzinfo=UTC))
    assert due["Europe/London"] == (date(2026, 3, 3), date(2026, 3, 17), datetime(2026, 3, 17, 23, 59, 59, 999999, tzinfo=UTC))
