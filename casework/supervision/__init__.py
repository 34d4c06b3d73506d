"""The territorial manager's side: caseloads per case manager, reassignment of pacts, approval of
co-designed pacts, programmes and their targets. It reads pacts through the access scoping and
notifies through the reminders domain; it knows nothing of Flask."""

from casework.supervision.approvals import approval_status, decide
from casework.supervision.targets import TARGET_INDICATORS

__all__ = [
    "TARGET_INDICATORS",
    "approval_status",
    "decide",
]
