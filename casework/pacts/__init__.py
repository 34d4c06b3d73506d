"""The personalised pact: the operations that move it and fill it in (referral, screening, goals,
actions, signature, contacts, outcome), the pact page's view model, the case file (timeline, journal,
équipe), documents, the workflow diagram and the case manager's day (Oggi). Operations take the
session, the actor and a clock; this package knows nothing of Flask or of a request."""

from casework.pacts.goals import item_change, may_edit_items
from casework.pacts.operations import (
    add_action,
    add_commitment,
    add_goal,
    add_member,
    log_contact,
    open_pact,
    record_outcome,
    record_referral,
    record_screening,
    set_action_status,
    set_goal_status,
    sign_pact,
    transition_pact,
)

__all__ = [
    "item_change",
    "add_action",
    "add_commitment",
    "add_goal",
    "add_member",
    "log_contact",
    "open_pact",
    "record_outcome",
    "record_referral",
    "record_screening",
    "set_action_status",
    "set_goal_status",
    "sign_pact",
    "transition_pact",
    "may_edit_items",
]
