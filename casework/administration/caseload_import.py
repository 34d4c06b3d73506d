"""Bringing in a caseload a comune already follows in its spreadsheets.

A supervisor gives a CSV or XLSX of beneficiaries with their open pacts (one row per person and
programme; the template: casework.administration.caseload_import_template). `dry_run` says per
row what will be created or matched and every problem (row, column, value, what is wrong);
`import_caseload` checks again and writes everything or, on any problem, nothing: the caller
commits or rolls back its one transaction. Importing the same file again changes nothing:
people are matched by codice fiscale, pacts already open in the same programme are matched.

The parts: reading the file (caseload_import_files), checking the rows (caseload_import_rows),
writing them (caseload_import_apply).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from casework.administration.caseload_import_apply import ImportSummary, apply_plan
from casework.administration.caseload_import_files import (
    COLUMNS,
    HEADERS,
    SourceTable,
    UnreadableFile,
    read_table,
)
from casework.administration.caseload_import_rows import (
    CREATE,
    MATCH,
    CaseloadPlan,
    ImportNotAllowed,
    PlannedRow,
    Problem,
    plan_caseload,
)
from casework.clock import Clock
from casework.errors import CaseworkError
from casework.i18n import N_, Message, gettext
from casework.models import User
from casework.security import record_admin_change
from casework.workflow import WorkflowRegistry

__all__ = [
    "COLUMNS",
    "CREATE",
    "HEADERS",
    "MATCH",
    "CaseloadPlan",
    "CaseloadRefused",
    "ImportNotAllowed",
    "ImportSummary",
    "PlannedRow",
    "Problem",
    "SourceTable",
    "UnreadableFile",
    "dry_run",
    "import_caseload",
    "problem_message",
    "read_table",
    "unreadable_message",
]

PROBLEMS: dict[str, Message] = {
    "missing_column": N_("This column is missing from the header row."),
    "required": N_("A value is required."),
    "required_past_first_stage": N_("The opening date is required for a pact past its first stage."),
    "invalid_date": N_("Not a date: write it as dd/mm/yyyy."),
    "in_future": N_("The date is in the future."),
    "before_1900": N_("The date is before 1900."),
    "opened_before_referral": N_("The opening date is before the referral date."),
    "contact_before_opening": N_("The last contact is before the pact entered its stage."),
    "invalid_length": N_("A codice fiscale has 16 characters."),
    "invalid_checksum": N_("The codice fiscale is not valid: its last letter does not match (a typo?)."),
    "invalid_format": N_("The codice fiscale is not valid: letters and digits are not where they should be."),
    "birth_date_mismatch": N_("The codice fiscale does not match the date of birth."),
    "gender_mismatch": N_("The codice fiscale does not match the gender."),
    "too_long": N_("The value is too long."),
    "invalid_email": N_("Not an e-mail address."),
    "invalid_phone": N_("Not a phone number."),
    "unknown_gender": N_("Unknown gender: write F, M or Altro."),
    "unknown_comune": N_("No comune with this ISTAT code or name."),
    "ambiguous_comune": N_("More than one comune has this name: write its ISTAT code."),
    "not_a_comune": N_("No comune with this ISTAT code or name."),
    "outside_territory": N_("The comune is not one of your territory's."),
    "unknown_programme": N_("No programme with this code."),
    "programme_not_overseen": N_("The programme is not one of your territory's."),
    "unknown_stage": N_("This stage is not in the programme's workflow."),
    "final_stage": N_("A closing stage: only open pacts can be imported."),
    "unknown_case_manager": N_("No active case manager with this username or e-mail."),
    "case_manager_not_overseen": N_("The case manager is not one of your territory's."),
    "unknown_referral_source": N_("Unknown referral source: see the allowed values in the instructions."),
    "unknown_priority": N_("Unknown priority: write Bassa, Media or Alta."),
    "duplicate_row": N_("Same person and programme as row {row}."),
}
UNKNOWN_PROBLEM = N_("The value is not valid.")


class CaseloadRefused(CaseworkError):
    """The file has problems: nothing was imported. `plan` holds them."""

    def __init__(self, plan: CaseloadPlan):
        self.plan = plan
        super().__init__(f"{len(plan.problems)} problem(s)")


def problem_message(problem: Problem, locale: str) -> str:
    return gettext(locale, PROBLEMS.get(problem.code, UNKNOWN_PROBLEM), **problem.params)


def unreadable_message(error: UnreadableFile, locale: str) -> str:
    return gettext(locale, error.message, **error.params)


def dry_run(
    session: Session, registry: WorkflowRegistry, user: User, table: SourceTable, *, clock: Clock, locale: str = "it",
) -> CaseloadPlan:
    """What importing would do and every problem; nothing is written."""
    return plan_caseload(session, registry, user, table, clock=clock, locale=locale)


def import_caseload(
    session: Session, registry: WorkflowRegistry, user: User, table: SourceTable, *, clock: Clock,
    filename: str = "", ip_address: str = "", locale: str = "it",
    progress: Callable[[int], None] | None = None,
) -> tuple[CaseloadPlan, ImportSummary]:
    """Check the rows again and write them all, recording the import in the administrative log.

    Raises CaseloadRefused (nothing written) when any row has a problem. Never commits.
    """
    plan = plan_caseload(session, registry, user, table, clock=clock, locale=locale)
    if not plan.ok:
        raise CaseloadRefused(plan)
    summary = apply_plan(session, registry, user, plan, clock=clock, locale=locale, progress=progress)
    record_admin_change(
        session, actor=user, action="import", subject_type="import", subject_id=None,
        subject_label=filename or "caseload",
        changes={
            "rows": [None, str(len(plan.rows))],
            "people_created": [None, str(summary.people_created)],
            "people_matched": [None, str(summary.people_matched)],
            "pacts_created": [None, str(summary.pacts_created)],
            "pacts_matched": [None, str(summary.pacts_matched)],
        },
        now=clock.now, ip_address=ip_address,
    )
    session.flush()
    return plan, summary
