"""The Italian catalogue: complete for every string in the code, and compiled from its .po."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from casework import PROJECT_ROOT

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
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in _po()
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert sorted(wanted - translated) == []


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
