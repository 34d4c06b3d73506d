"""Time and what is due: Italian working days, deadlines computed from the workflow, deadline rows
with their reminders and escalations (sent exactly once), in-app notifications, the mail outbox,
the calendar feed, and the scheduler process with its lock. It uses the workflow and the access
scoping; it knows nothing of pacts' forms, of supervisors' pages or of Flask. The scheduler
(`casework.reminders.scheduler`, which loads APScheduler) is not imported here: only the
scheduler process loads it."""

from casework.reminders.calendars import queue_comune_pacts
from casework.reminders.deadline_operations import (
    MAX_SNOOZE_REASON,
    SNOOZE_FIELD,
    SNOOZE_REASON_FIELD,
    snooze_deadline,
    snoozed_now,
)
from casework.reminders.deadline_rows import ReminderPolicy, refresh_pact_deadlines
from casework.reminders.deadlines import (
    DUE_SOON_DAYS,
    StatePosition,
    days_until,
    deadline_state,
    due_date,
    due_soon_end,
    end_of_local_day,
    next_deadline,
    refresh_next_deadline,
    state_deadlines,
)
from casework.reminders.mail import failed_emails, queue_email, retry_email
from casework.reminders.notifications import LOCALES, deadline_label, format_day, notify, rule_label
from casework.reminders.referral_deadlines import service_names
from casework.reminders.scheduler_lock import take_turn
from casework.reminders.sweep import SWEEP_TURN, hand_over_reminders
from casework.reminders.sweep import sweep as run_sweep
from casework.reminders.workdays import (
    add_working_days,
    subtract_working_days,
    working_day_on_or_before,
    working_days_between,
)

__all__ = [
    "DUE_SOON_DAYS",
    "LOCALES",
    "MAX_SNOOZE_REASON",
    "SNOOZE_FIELD",
    "SNOOZE_REASON_FIELD",
    "SWEEP_TURN",
    "ReminderPolicy",
    "StatePosition",
    "add_working_days",
    "days_until",
    "deadline_label",
    "deadline_state",
    "due_date",
    "due_soon_end",
    "end_of_local_day",
    "failed_emails",
    "format_day",
    "hand_over_reminders",
    "next_deadline",
    "notify",
    "queue_comune_pacts",
    "queue_email",
    "refresh_next_deadline",
    "refresh_pact_deadlines",
    "retry_email",
    "rule_label",
    "run_sweep",
    "service_names",
    "snooze_deadline",
    "snoozed_now",
    "state_deadlines",
    "subtract_working_days",
    "take_turn",
    "working_day_on_or_before",
    "working_days_between",
]
