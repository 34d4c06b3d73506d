"""The directory's taxonomy (macro-areas and service types), kept in step with taxonomy.yaml.

The file is the reference: `seed_taxonomy` adds the macro-areas and types it lacks and
brings labels, need areas and order up to date, so `casework init`, `casework db upgrade`
and the demo all leave the same taxonomy. A code never changes meaning; a type the file no
longer lists stays (services may use it). The Nomenclatore code an office set by hand is
kept unless the file gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import ServiceMacroArea, ServiceType

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class TypeEntry:
    code: str
    label_it: str
    label_en: str
    need_area: str
    nomenclatore: str


@dataclass(frozen=True)
class MacroAreaEntry:
    code: str
    label_it: str
    label_en: str
    types: tuple[TypeEntry, ...]


@lru_cache(maxsize=1)
def load_taxonomy(path: Path = TAXONOMY_FILE) -> tuple[MacroAreaEntry, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        MacroAreaEntry(
            code=area["code"], label_it=area["label"]["it"], label_en=area["label"]["en"],
            types=tuple(
                TypeEntry(code=entry["code"], label_it=entry["label"]["it"], label_en=entry["label"]["en"],
                          need_area=entry.get("need_area", ""), nomenclatore=entry.get("nomenclatore", ""))
                for entry in area["types"]
            ),
        )
        for area in data["macro_areas"]
    )


def seed_taxonomy(session: Session) -> None:
    """Bring the taxonomy tables in line with taxonomy.yaml (idempotent; the caller commits)."""
    areas = {area.code: area for area in session.scalars(select(ServiceMacroArea))}
    types = {kind.code: kind for kind in session.scalars(select(ServiceType))}
    for area_position, entry in enumerate(load_taxonomy()):
        area = areas.get(entry.code)
        if area is None:
            area = ServiceMacroArea(code=entry.code)
            session.add(area)
        area.label_it, area.label_en, area.position = entry.label_it, entry.label_en, area_position
        for type_position, type_entry in enumerate(entry.types):
            kind = types.get(type_entry.code)
            if kind is None:
                kind = ServiceType(code=type_entry.code, nomenclatore_code="")
                session.add(kind)
            kind.macro_area = area
            kind.label_it, kind.label_en = type_entry.label_it, type_entry.label_en
            kind.need_area, kind.position = type_entry.need_area, type_position
            if type_entry.nomenclatore:
                kind.nomenclatore_code = type_entry.nomenclatore
    session.flush()
