"""A service's search terms follow its texts, whatever writes them; accents, plurals and
stems of Italian words match."""

from __future__ import annotations

import pytest
from sqlalchemy import and_, select

from casework.models import Organisation, ServiceSearchTerm, ServiceType
from casework.services import query_stems, services_matching
from casework.services.search_terms import fold, terms_of, words
from tests.services.search_support import build_places, make_service


def found(session, text: str) -> set[str]:
    """Names of the services every word of `text` finds."""
    from casework.models import Service

    conditions = [Service.id.in_(services_matching(stem)) for stem in query_stems(text)]
    return set(session.scalars(select(Service.name).where(and_(*conditions))))


def terms(session, service) -> set[str]:
    return set(session.scalars(select(ServiceSearchTerm.term).where(ServiceSearchTerm.service_id == service.id)))


def test_folding_drops_case_accents_punctuation_and_stop_words():
    assert fold("CITTÀ") == "citta"
    assert words("Mediazione linguistico-culturale per l'accesso ai servizi") == [
        "mediazione", "linguistico", "culturale", "accesso", "servizi"]
    assert query_stems("ludoteche") == query_stems("Ludoteca")
    assert terms_of(["Città", "CITTÀ", "citta"]) == {"citt"}
    assert all(len(term) <= 40 for term in terms_of(["x" * 90]))


@pytest.fixture
def directory(session):
    places = build_places(session)
    ludoteca = make_service(session, places, "Ludoteca Il Girasole", "ludoteca", ["settimo"],
                            description="Giochi e laboratori per bambini da 3 a 10 anni")
    mediazione = make_service(session, places, "Sportello di mediazione", "mediazione_culturale", ["volpiano"],
                              organisation="comune", target_group="Famiglie straniere")
    session.commit()
    return places, ludoteca, mediazione


def test_creating_a_service_stores_the_terms_of_its_texts_organisation_and_labels(session, directory):
    _places, ludoteca, mediazione = directory
    stored = terms(session, ludoteca)
    # Name, description, organisation, type and macro-area labels in Italian and English, stemmed.
    assert stored == {"10", "3", "anni", "balanc", "bambin", "centr", "concil", "cooper", "famigl", "family",
                      "gioc", "girasol", "labor", "library", "lif", "ludotec", "play", "pont", "toy", "work"}
    assert all(len(term) <= 40 for term in stored)
    assert "citt" in terms(session, mediazione)  # "Città di Settimo", the organisation


def test_accents_plurals_and_stems_match(session, directory):
    assert found(session, "ludoteche") == {"Ludoteca Il Girasole"}
    assert found(session, "LUDOTECA") == {"Ludoteca Il Girasole"}
    assert found(session, "mediazione linguistica") == {"Sportello di mediazione"}
    assert found(session, "CITTÀ") == found(session, "citta") == {"Sportello di mediazione"}
    assert found(session, "ludot") == {"Ludoteca Il Girasole"}  # a word being typed
    assert found(session, "bambini stranieri") == set()  # every word must match
    assert found(session, "toy library") == {"Ludoteca Il Girasole"}


def test_editing_a_service_its_organisation_or_its_type_rewrites_the_terms(session, directory):
    places, ludoteca, mediazione = directory
    ludoteca.name = "Spazio gioco Arcobaleno"
    ludoteca.description = ""
    session.commit()
    assert found(session, "arcobaleno") == {"Spazio gioco Arcobaleno"}
    assert found(session, "girasole") == set()
    assert found(session, "ludoteca") == {"Spazio gioco Arcobaleno"}  # still its type's label

    ludoteca.service_type = session.scalars(select(ServiceType).where(ServiceType.code == "doposcuola")).one()
    session.commit()
    assert found(session, "ludoteca") == set()
    assert found(session, "compiti") == {"Spazio gioco Arcobaleno"}

    places.organisations["comune"].name = "Comune di Settimo Torinese"
    session.commit()
    assert found(session, "citta") == set()
    assert found(session, "torinese") == {"Sportello di mediazione"}

    kind = session.scalars(select(ServiceType).where(ServiceType.code == "mediazione_culturale")).one()
    kind.label_it = "Interpretariato"
    session.commit()
    assert found(session, "interpreti") == {"Sportello di mediazione"}
    assert session.scalar(select(Organisation.name).where(Organisation.id == mediazione.organisation_id)) \
        == "Comune di Settimo Torinese"
