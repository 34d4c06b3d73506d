"""Workflow definitions: files in `workflows/` loaded and validated (errors say file, line and
cause), named guards, questionnaire scoring, and the engine: one `transitions` machine per workflow
version, never one per row. It knows nothing of the database session's other tables' rules, of
other domains or of Flask."""

from casework.workflow.definition import (
    IMPORT_EVENT,
    OPEN_EVENT,
    DeadlineRule,
    EventDef,
    Question,
    Questionnaire,
    WorkflowDefinition,
    label_in,
    referral_rule_id,
    split_referral_rule_id,
)
from casework.workflow.engine import EventStatus, WorkflowEngine, WorkflowRegistry
from casework.workflow.guards import (
    APPROVAL_GUARD,
    REASON_GUARD,
    Guard,
    GuardContext,
    condition_holds,
)
from casework.workflow.loader import check_directory, resolved_targets
from casework.workflow.questionnaire import InvalidAnswers, score_screening

__all__ = [
    "APPROVAL_GUARD",
    "DeadlineRule",
    "EventDef",
    "EventStatus",
    "Guard",
    "GuardContext",
    "IMPORT_EVENT",
    "InvalidAnswers",
    "OPEN_EVENT",
    "Question",
    "Questionnaire",
    "REASON_GUARD",
    "WorkflowDefinition",
    "WorkflowEngine",
    "WorkflowRegistry",
    "check_directory",
    "condition_holds",
    "label_in",
    "resolved_targets",
    "score_screening",
    "referral_rule_id",
    "split_referral_rule_id",
]
