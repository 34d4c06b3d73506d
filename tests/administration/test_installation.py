"""`casework init`: schema, territories and the first administrator, on a fresh SQLite file and a
fresh PostgreSQL database, from the environment or asked for; a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework.administration.installation import (
    TerritoryFileError,
    load_territories_file,
    parse_territories,
)
from casework.cli import main
from casework.db import make_engine
from casework.models import AdministrativeLogEntry, Role, Territory, TerritoryKind, User
from casework.security.passwords import verify_password

GOOD_PASSWORD = "ponte-sul-po-2026"
ADMIN_ENV = {
    "CASEWORK_ADMIN_USERNAME": "Anna.Bianchi",
    "CASEWORK_ADMIN_FULL_NAME": "Anna Bianchi",
    "CASEWORK_ADMIN_EMAIL": "anna.bianchi@comune.example.it",
    "CASEWORK_ADMIN_PASSWORD": GOOD_PASSWORD,
}
NO_ADMIN_ENV = dict.fromkeys(ADMIN_ENV, "")


def _env(tmp_path: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    return {"CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"), "CASEWORK_DATABASE_URL": database_url,
            "CASEWORK_ENV": "development", "CASEWORK_PUBLIC_URL": "https://casework.comune.example.it",
            **NO_ADMIN_ENV, **extra}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'office.sqlite3'}"
    return request.getfixturevalue("fresh_postgres_url")


def _read(url: str):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            users = connection.execute(select(User.username, User.full_name, User.email, User.role,
                                              User.password_hash, User.territory_id)).all()
            territories = connection.execute(select(Territory.id, Territory.name, Territory.kind,
                                                    Territory.istat_code, Territory.parent_id)
                                             .order_by(Territory.id)).all()
            log = connection.execute(select(AdministrativeLogEntry.actor_id, AdministrativeLogEntry.subject_type,
                                            AdministrativeLogEntry.subject_label)
                                     .order_by(AdministrativeLogEntry.id)).all()
        return users, territories, log
    finally:
        engine.dispose()


def test_an_automated_install_creates_the_administrator_and_territory_once(tmp_path, database_url):
    runner = CliRunner()
    arguments = ["init", "--territory", "Unione NET", "--kind", "unione",
                 "--comuni", "001265=Settimo Torinese, 001314=Volpiano"]
    first = runner.invoke(main, arguments, env=_env(tmp_path, database_url, **ADMIN_ENV))
    assert first.exit_code == 0, first.output
    assert "Administrator anna.bianchi created (Unione NET)" in first.output
    assert "Sign in at https://casework.comune.example.it/login" in first.output
    assert "?" not in first.output  # nothing was asked

    users, territories, log = _read(database_url)
    [(username, full_name, email, role, password_hash, territory_id)] = users
    assert (username, full_name, email, role) == ("anna.bianchi", "Anna Bianchi", "anna.bianchi@comune.example.it",
                                                  Role.ADMIN)
    assert verify_password(password_hash, GOOD_PASSWORD)
    unione, settimo, volpiano = territories
    assert (unione.name, unione.kind, territory_id) == ("Unione NET", TerritoryKind.UNIONE, unione.id)
    assert [(t.name, t.istat_code, t.parent_id) for t in (settimo, volpiano)] == [
        ("Settimo Torinese", "001265", unione.id), ("Volpiano", "001314", unione.id)]
    assert [(entry.actor_id, entry.subject_type) for entry in log] == [
        (None, "territory"), (None, "territory"), (None, "territory"), (None, "user")]

    again = runner.invoke(main, arguments, env=_env(tmp_path, database_url, **ADMIN_ENV))
    assert again.exit_code == 0, again.output
    assert "already initialised" in again.output and "anna.bianchi" in again.output
    assert _read(database_url) == (users, territories, log)


def test_a_weak_password_in_the_environment_is_refused_and_nothing_is_created(tmp_path):
    env = _env(tmp_path, **{**ADMIN_ENV, "CASEWORK_ADMIN_PASSWORD": "password1234",
                            "CASEWORK_ADMIN_EMAIL": "not-an-address"})
    result = CliRunner().invoke(main, ["init", "--territory", "Unione NET"], env=env)
    assert result.exit_code == 1
    assert "CASEWORK_ADMIN_PASSWORD: this password is among the first ones anyone would try" in result.output
    assert "CASEWORK_ADMIN_EMAIL: this is not an e-mail address" in result.output
    assert "nothing was created" in result.output
    assert not (tmp_path / "instance" / "casework.sqlite3").exists()


def test_an_automated_install_without_a_territory_says_how_to_give_one(tmp_path):
    result = CliRunner().invoke(main, ["init"], env=_env(tmp_path, **ADMIN_ENV))
    assert result.exit_code == 1
    assert "--territory NAME --kind KIND" in result.output


def test_asked_interactively_each_bad_answer_is_explained_and_asked_again(tmp_path):
    answers = "\n".join([
        "Consorzio Monviso", "regione",  # a kind that does not exist
        "Consorzio Monviso", "consorzio",
        "a",  # too short for a username
        "Paolo.Verdi",
        "",  # a full name is required: click asks again by itself
        "Paolo Verdi",
        "paolo@", "paolo.verdi@monviso.example.it",
        "short",  # too short
        "paolo.verdi-2026-x",  # contains the username
        "nebbia sulle langhe", "nebbia sulle colline",  # the two differ
        "nebbia sulle langhe", "nebbia sulle langhe",
    ]) + "\n"
    result = CliRunner().invoke(main, ["init"], input=answers, env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "--kind: 'regione' is not one of: ambito, unione, consorzio" in result.output
    assert "the username takes 3 to 80" in result.output
    assert "this is not an e-mail address" in result.output
    assert "the password is too short: at least 12 characters" in result.output
    assert "the password must not contain the username" in result.output
    assert "the two passwords differ" in result.output
    assert "Administrator paolo.verdi created (Consorzio Monviso)" in result.output
    assert "nebbia" not in result.output  # passwords are never echoed

    users, territories, _ = _read(f"sqlite:///{tmp_path / 'instance' / 'casework.sqlite3'}")
    [(username, full_name, email, role, password_hash, _territory)] = users
    assert (username, full_name, email, role) == ("paolo.verdi", "Paolo Verdi", "paolo.verdi@monviso.example.it",
                                                  Role.ADMIN)
    assert verify_password(password_hash, "nebbia sulle langhe")
    assert [(t.name, t.kind) for t in territories] == [("Consorzio Monviso", TerritoryKind.CONSORZIO)]


TREE = '''\
[[territory]]
name = "Consorzio Monviso Solidale"
kind = "consorzio"

  [[territory.children]]
  name = "Unione del Fossanese"
  kind = "unione"
  comuni = [
    { name = "Fossano", istat_code = "004089" },
    { name = "Genola", istat_code = "004097" },
  ]

  [[territory.children]]
  name = "Saluzzese"
  kind = "ambito"
  comuni = [{ name = "Saluzzo", istat_code = "004203" }]
'''


def test_a_territories_file_creates_the_tree(tmp_path):
    tree = tmp_path / "territories.toml"
    tree.write_text(TREE, encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--territories", str(tree)], env=_env(tmp_path, **ADMIN_ENV))
    assert result.exit_code == 0, result.output
    assert "Territories created: 3, comuni: 3." in result.output
    users, territories, _ = _read(f"sqlite:///{tmp_path / 'instance' / 'casework.sqlite3'}")
    by_id = {t.id: t for t in territories}
    assert {(t.name, t.istat_code, by_id[t.parent_id].name if t.parent_id else None) for t in territories} == {
        ("Consorzio Monviso Solidale", None, None),
        ("Unione del Fossanese", None, "Consorzio Monviso Solidale"),
        ("Saluzzese", None, "Consorzio Monviso Solidale"),
        ("Fossano", "004089", "Unione del Fossanese"), ("Genola", "004097", "Unione del Fossanese"),
        ("Saluzzo", "004203", "Saluzzese"),
    }
    assert by_id[users[0].territory_id].name == "Consorzio Monviso Solidale"  # the root of the tree


def test_a_bad_territories_file_names_each_problem_with_its_line_and_creates_nothing(tmp_path):
    tree = tmp_path / "territories.toml"
    tree.write_text(TREE.replace('"004097"', '"4097"').replace('kind = "ambito"', 'kind = "provincia"')
                    .replace('istat_code = "004203"', "istat_code = 4203"), encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--territories", str(tree)], env=_env(tmp_path, **ADMIN_ENV))
    assert result.exit_code == 1
    assert (f"{tree}:10: territory[0].children[0].comuni[1].istat_code: ISTAT code '4097' is not 6 digits"
            in result.output)
    assert f"{tree}:15: territory[0].children[1].kind: kind 'provincia' is not one of" in result.output
    assert "territory[0].children[1].comuni[0].istat_code: write the ISTAT code in quotes" in result.output
    assert "nothing was created" in result.output
    assert not (tmp_path / "instance" / "casework.sqlite3").exists()


def test_a_territories_file_that_is_not_toml_says_the_line(tmp_path):
    tree = tmp_path / "territories.toml"
    tree.write_text('[[territory]]\nname = "Unione NET\nkind = "unione"\n', encoding="utf-8")
    with pytest.raises(TerritoryFileError) as raised:
        load_territories_file(tree)
    assert raised.value.problems[0].startswith(f"{tree}:2: not valid TOML")


def test_a_territories_file_refuses_duplicates_comuni_as_territories_and_unknown_keys():
    text = '''\
[[territory]]
name = "Unione NET"
kind = "unione"
colour = "blue"
comuni = [
  { name = "Settimo Torinese", istat_code = "001265" },
  { name = "Settimo bis", istat_code = "001265" },
  { istat_code = "001314" },
]

[[territory]]
name = "Volpiano"
kind = "comune"
'''
    with pytest.raises(TerritoryFileError) as raised:
        parse_territories(text, "t.toml")
    assert raised.value.problems == [
        "t.toml:4: territory[0]: unknown key 'colour' (expected: children, comuni, kind, name)",
        "t.toml:7: territory[0].comuni[1].istat_code: ISTAT code 001265 is listed twice (also territory[0].comuni[0])",
        "t.toml:8: territory[0].comuni[2].name: a comune needs a name",
        "t.toml:13: territory[1].kind: list comuni under `comuni` of their territory (name and istat_code), "
        "not as territories",
    ]
    with pytest.raises(TerritoryFileError) as raised:
        parse_territories("", "empty.toml")
    assert "at least one territory" in raised.value.problems[0]


def test_the_readme_example_of_a_territories_file_is_valid():
    from casework import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    [consorzio] = parse_territories(example, "README.md")
    assert (consorzio.name, [child.name for child in consorzio.children]) == (
        "Consorzio Monviso Solidale", ["Unione del Fossanese"])
    assert [comune.istat_code for comune in consorzio.children[0].comuni] == ["004089", "004097"]


def test_with_the_official_list_a_bare_istat_code_is_enough():
    from casework.administration.installation import territory_from_options

    official = {"001265": "Settimo Torinese", "001314": "Volpiano"}.get
    spec = territory_from_options("Unione NET", "unione", "001265, 001314", names=official)
    assert [(c.istat_code, c.name) for c in spec.comuni] == [("001265", "Settimo Torinese"), ("001314", "Volpiano")]
    with pytest.raises(TerritoryFileError) as raised:
        territory_from_options("Unione NET", "unione", "009999", names=official)
    assert raised.value.problems == ["--comuni: 009999 is not in the ISTAT list of comuni"]
    [unione] = parse_territories('[[territory]]\nname = "Unione NET"\nkind = "unione"\n'
                                 'comuni = [{ istat_code = "001314" }]\n', names=official)
    assert unione.comuni[0].name == "Volpiano"


def test_casework_init_takes_bare_istat_codes_from_the_official_list(tmp_path):
    url = f"sqlite:///{tmp_path / 'office.sqlite3'}"
    result = CliRunner().invoke(main, ["init", "--territory", "Unione NET", "--kind", "unione",
                                       "--comuni", "001265,001314"], env=_env(tmp_path, url, **ADMIN_ENV))
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            comuni = connection.execute(select(Territory.name, Territory.istat_code, Territory.province,
                                               Territory.cadastral_code)
                                        .where(Territory.kind == TerritoryKind.COMUNE).order_by(Territory.id)).all()
    finally:
        engine.dispose()
    assert comuni == [("Settimo Torinese", "001265", "TO", "I703"), ("Volpiano", "001314", "TO", "M122")]

    unknown = CliRunner().invoke(main, ["init", "--territory", "Unione NET", "--kind", "unione",
                                        "--comuni", "009999"], env=_env(tmp_path / "other", "", **ADMIN_ENV))
    assert unknown.exit_code == 1
    assert "--comuni: 009999 is not in the ISTAT list of comuni" in unknown.output
