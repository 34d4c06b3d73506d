"""The directory's taxonomy: seeded from taxonomy.yaml, covering every screening need area."""

from __future__ import annotations

from sqlalchemy import func, select

from casework.models import ServiceMacroArea, ServiceType
from casework.services import load_taxonomy, seed_taxonomy
from casework.workflow import WorkflowRegistry


def test_ten_macro_areas_and_about_fifty_types_with_unique_codes():
    taxonomy = load_taxonomy()
    codes = [kind.code for area in taxonomy for kind in area.types]
    assert len(taxonomy) == 10
    assert 45 <= len(codes) <= 55
    assert len(set(codes)) == len(codes)
    for required in ("centri_educativi", "ludoteca", "centro_famiglia", "sportello_stranieri",
                     "mediazione_culturale", "servizi_salvatempo", "doposcuola", "tirocini"):
        assert required in codes


def test_every_need_area_of_every_workflow_is_answered_by_some_type(registry: WorkflowRegistry):
    answered = {kind.need_area for area in load_taxonomy() for kind in area.types}
    for loaded in registry.engines():
        questionnaire = loaded.definition.questionnaire
        if questionnaire is not None:
            assert set(questionnaire.need_areas) <= answered, loaded.definition.name


def test_seeding_twice_changes_nothing_and_keeps_a_code_set_by_hand(session):
    seed_taxonomy(session)
    ludoteca = session.scalars(select(ServiceType).where(ServiceType.code == "ludoteca")).one()
    ludoteca.nomenclatore_code = "X9"
    ludoteca.label_it = "Renamed by mistake"
    seed_taxonomy(session)
    assert session.scalar(select(func.count()).select_from(ServiceMacroArea)) == 10
    assert session.scalar(select(func.count()).select_from(ServiceType)) == 48
    assert ludoteca.nomenclatore_code == "X9"
    assert ludoteca.label_it == "Ludoteca"
    assert ludoteca.macro_area.code == "famiglia"
