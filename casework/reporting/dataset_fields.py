"""The fields of the pseudonymised dataset, documented: the XLSX's fields sheet and the
export page show them (docs/pseudonymised-dataset.md says the same for evaluators)."""

from __future__ import annotations

from dataclasses import dataclass

from casework.i18n import N_, Message, gettext
from casework.reporting.export_files import word
from casework.reporting.report_tables import Column, Table

NEED_FIELD = "need_<area>"  # documents the one column per need area of the questionnaire


@dataclass(frozen=True)
class FieldDoc:
    """One field of the pseudonymised dataset, as the fields sheet and the export page show it."""

    key: str
    kind: str  # the Column kind
    type: str  # "code" or "integer"
    label: Message  # the XLSX header
    meaning: Message
    values: Message


FIELD_TYPES: dict[str, Message] = {
    "code": N_("code (text)"),
    "integer": N_("whole number"),
}
_YES_NO = N_("yes, no")
DATASET_FIELDS: tuple[FieldDoc, ...] = (
    FieldDoc("person", "text", "code",
             N_("Person"),
             N_("Pseudonym of the person: the same in every pact and every export made with the same key"),
             N_("12 characters A-Z, 2-7")),
    FieldDoc("pact", "text", "code",
             N_("Pact"),
             N_("Pseudonym of the pact"),
             N_("12 characters A-Z, 2-7")),
    FieldDoc("programme", "text", "code",
             N_("Programme"),
             N_("Programme code"),
             N_("e.g. TILDE, CHANCE")),
    FieldDoc("workflow", "text", "code",
             N_("Workflow"),
             N_("The pact's workflow: gives the meaning of the stage and outcome codes"),
             N_("e.g. patto_personalizzato")),
    FieldDoc("comune_istat", "text", "code",
             N_("Comune (ISTAT)"),
             N_("ISTAT code of the comune of residence"),
             N_("6 digits; empty when not recorded, and for restricted programmes (violence, court orders), "
                "where the comune alone could point to the person")),
    FieldDoc("gender", "text", "code",
             N_("Gender"),
             N_("Gender as recorded in the person's record"),
             N_("female, male, other")),
    FieldDoc("age_band", "text", "code",
             N_("Age band"),
             N_("Age band on the last day of the period"),
             N_("under_18, 18_24, 25_34, 35_49, 50_64, 65_over, unknown")),
    FieldDoc("migrant_background", "text", "code",
             N_("Migrant background"),
             N_("Whether the person has a migrant background (as recorded)"), _YES_NO),
    FieldDoc("priority", "text", "code",
             N_("Priority"),
             N_("Priority from the screening"),
             N_("low, medium, high; empty before the screening")),
    FieldDoc("need_<area>", "count", "integer",
             N_("Need"),
             N_("Need score of the area (latest screening); one column per area of the questionnaire"),
             N_("whole number ≥ 0; empty without a screening")),
    FieldDoc("stage", "text", "code",
             N_("Stage"),
             N_("Stage of the pact when exported (the workflow's state code)"),
             N_("e.g. referral, follow_up, closed, withdrawn")),
    FieldDoc("opened_month", "text", "code",
             N_("Month opened"),
             N_("Month the pact was opened"),
             N_("YYYY-MM")),
    FieldDoc("days_to_screening", "days", "integer",
             N_("Days to screening"),
             N_("Calendar days from the referral to the first completed screening"),
             N_("whole number; empty if it has not happened")),
    FieldDoc("days_to_signature", "days", "integer",
             N_("Days to signature"),
             N_("Calendar days from the referral to the first signature of the pact"),
             N_("whole number; empty if it has not happened")),
    FieldDoc("days_to_activation", "days", "integer",
             N_("Days to activation"),
             N_("Calendar days from the referral to first entering the activation stage"),
             N_("whole number; empty if it has not happened or the workflow has no activation stage")),
    FieldDoc("closed_month", "text", "code",
             N_("Month closed"),
             N_("Month the pact was closed"),
             N_("YYYY-MM; empty while open")),
    FieldDoc("outcome", "text", "code",
             N_("Outcome"),
             N_("Code of the outcome recorded at closure"),
             N_("the workflow's codes, e.g. work_entered, school_reenrolled")),
    FieldDoc("goals_achieved", "text", "code",
             N_("Goals achieved"),
             N_("How far the pact's goals were achieved, recorded with the outcome"),
             N_("fully, partly, not; empty without an outcome")),
    FieldDoc("withdrawal_reason", "text", "code",
             N_("Withdrawal reason"),
             N_("Reason chosen on the move into the current stage (e.g. of the withdrawal)"),
             N_("the workflow's reason codes; empty if none")),
)


def dataset_fields_table(locale: str) -> Table:
    """The field documentation as a table: the XLSX's fields sheet and the export page show it."""
    return Table(
        key="fields", title=word("fields_title", locale),
        columns=(
            Column("key", word("key", locale)), Column("type", word("field_type", locale)),
            Column("meaning", word("field_meaning", locale)), Column("values", word("field_values", locale)),
        ),
        rows=tuple((field.key, gettext(locale, FIELD_TYPES[field.type]), gettext(locale, field.meaning),
                    gettext(locale, field.values)) for field in DATASET_FIELDS),
    )
