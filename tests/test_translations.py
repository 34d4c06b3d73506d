"""The Italian catalogue: complete for every string in the code, and compiled from its .po."""

from __future__ import annotations

import ast
import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from casework import PROJECT_ROOT
from casework.i18n import C_, N_, gettext

CATALOGUE = PROJECT_ROOT / "casework" / "web" / "translations" / "it" / "LC_MESSAGES"


def _po():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle, locale="it")


def test_every_string_in_the_code_has_an_italian_translation(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "-o", str(template), "."],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )
    with template.open("rb") as handle:
        wanted = {(m.context or "", m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}
    translated = {
        (m.context or "", m.id if isinstance(m.id, str) else m.id[0])
        for m in _po()
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert sorted(wanted - translated) == []
    # The core's markers are found too (babel.cfg names them), with their contexts.
    assert ("", "Share of women") in wanted and ("deadlines", "Met") in wanted


def test_the_core_reads_the_catalogue_with_an_explicit_locale():
    assert gettext("it", N_("Share of women")) == "Quota di donne"
    assert gettext("en", N_("Share of women")) == "Share of women"
    assert gettext("it", N_("Pact no. {pact} ({programme}): {deadline}"), pact=7, programme="TILDE",
                   deadline="Firma") == "Patto n. 7 (TILDE): Firma"
    # Same English words, two Italian renderings: the context tells them apart.
    assert (gettext("it", C_("deadlines", "Met")), gettext("it", N_("Met"))) == ("Rispettate", "Raggiunto")
    assert gettext("en", C_("deadlines", "Met")) == "Met"


def test_no_core_module_holds_texts_per_language():
    """Texts of the core live in the catalogue, not in {"it": ..., "en": ...} dictionaries."""
    core = PROJECT_ROOT / "casework"
    holding = [
        str(path.relative_to(PROJECT_ROOT)) for path in core.rglob("*.py")
        if "web" not in path.relative_to(core).parts and _has_text_per_language(path.read_text(encoding="utf-8"))
    ]
    assert holding == []


def _has_text_per_language(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict) and {getattr(key, "value", None) for key in node.keys} >= {"it", "en"}:
            return True
    return False


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    source = {
        _key(m.id): _key(m.string) for m in _po()
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert {key: compiled.get(key) for key in source} == source, "run: pybabel compile -d casework/web/translations"


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value
