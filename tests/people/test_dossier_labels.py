"""Every table that can enter the copy of a person's data, and every column of it, is either
labelled for the readable copy or declared technical (casework.people.dossier_labels): a column
added tomorrow fails here until someone decides how a person reads it."""

from __future__ import annotations

from casework.models import Base
from casework.people.dossier_labels import CODE_LABELS, READING_ORDER, SECTIONS, WORKFLOW_CODES
from casework.people.subject_access import _tables_about

# The copy's own tables (casework.people.subject_access.person_dossier): the person, their
# pacts, and the edit history, besides the tables found by the schema walk.
OWN_TABLES = ("beneficiary", "pact", "change_record")


def _tables_in_the_copy() -> list[str]:
    return [*OWN_TABLES, *(table.name for table in _tables_about(("beneficiary", "pact")))]


def test_every_table_of_the_copy_has_a_section_title():
    missing = [name for name in _tables_in_the_copy() if name not in SECTIONS]
    assert not missing, f"tables of the copy without labels in casework/people/dossier_labels.py: {missing}"


def test_every_column_is_labelled_or_technical():
    undecided = []
    for name in _tables_in_the_copy():
        labels = SECTIONS.get(name)
        for column in Base.metadata.tables[name].columns:
            if labels is None or (column.name not in labels.columns and column.name not in labels.technical):
                undecided.append(f"{name}.{column.name}")
    assert not undecided, f"columns neither labelled nor technical in dossier_labels.SECTIONS: {undecided}"


def test_a_column_is_labelled_or_technical_not_both_and_exists():
    for name, labels in SECTIONS.items():
        columns = set(Base.metadata.tables[name].columns.keys())
        assert not set(labels.columns) & labels.technical, name
        decided = set(labels.columns) | labels.technical
        assert decided <= columns, (name, decided - columns)


def test_coded_columns_name_real_columns():
    for table, column in [*WORKFLOW_CODES, *CODE_LABELS]:
        assert column in Base.metadata.tables[table].columns, (table, column)
        assert column in SECTIONS[table].columns, (table, column)


def test_every_section_has_a_place_in_the_reading_order():
    assert sorted(READING_ORDER) == sorted(SECTIONS)
