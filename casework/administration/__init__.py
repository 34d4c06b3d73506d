"""Running an office's Casework: accounts and roles, territories and organisations, the office's
settings, bringing in an existing caseload, and the administrative log that records every such
change (append-only). It uses the security domain for passwords and sessions; it knows nothing
of Flask."""

from casework.administration import accounts, tokens
from casework.administration.log import (
    AdminLogFilters,
    AdminLogPage,
    admin_log,
    changed_fields,
    record_admin_change,
)

__all__ = [
    "AdminLogFilters",
    "AdminLogPage",
    "accounts",
    "admin_log",
    "changed_fields",
    "record_admin_change",
    "tokens",
]
