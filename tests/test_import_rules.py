"""The package layout's import rules hold, and the check would notice a breach."""

from pathlib import Path

from casework import PROJECT_ROOT
from tests.import_rules import check


def test_the_package_keeps_its_import_rules() -> None:
    assert check(PROJECT_ROOT / "casework") == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "casework"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_a_core_module_that_imports_flask_is_reported(tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pacts/__init__.py": "", "pacts/page.py": "from flask import request\n",
        "web/__init__.py": "from flask import Flask\n",
    })
    assert check(package) == [
        f"{package / 'pacts' / 'page.py'}:1: casework.pacts.page: the core must not import flask (web framework)"]


def test_a_core_module_that_imports_the_web_layer_is_reported(tmp_path: Path) -> None:
    package = _package(tmp_path, {"db.py": "def f():\n    from casework.web import context\n",
                                  "web/__init__.py": "", "web/context.py": ""})
    assert check(package) == [f"{package / 'db.py'}:2: casework.db: the core must not import the web layer"]


def test_reaching_into_another_domain_and_shared_modules_importing_domains_are_reported(tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pacts/__init__.py": "from casework.pacts.operations import open_pact\n",
        "pacts/operations.py": "def open_pact(): ...\n",
        "people/__init__.py": "",
        "people/ok.py": "from casework.pacts import open_pact\n",
        "people/bad.py": "from casework.pacts.operations import open_pact\nfrom casework.pacts import operations\n",
        "config.py": "from casework.pacts import open_pact\n",
    })
    problems = check(package)
    assert problems == [
        f"{package / 'config.py'}:1: casework.config: a module every domain uses must not import the domain pacts",
        f"{package / 'people' / 'bad.py'}:1: casework.people.bad: reaches into casework.pacts.operations: "
        "import from casework.pacts what the domain exposes",
        f"{package / 'people' / 'bad.py'}:2: casework.people.bad: reaches into casework.pacts.operations: "
        "import from casework.pacts what the domain exposes",
    ]


def test_domains_that_import_each_other_are_reported(tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pacts/__init__.py": "from casework.people import register\n",
        "people/__init__.py": "def register(): ...\n\ndef later():\n    from casework.pacts import x\n",
    })
    assert check(package) == ["domains import each other in a cycle: pacts -> people -> pacts"]


def test_modules_that_import_each_other_are_reported(tmp_path: Path) -> None:
    package = _package(tmp_path, {"db.py": "from casework import config\n", "config.py": "import casework.db\n"})
    assert check(package) == ["modules import each other in a cycle: casework.config -> casework.db -> casework.config"]
