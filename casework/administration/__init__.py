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
from casework.administration.office import (
    LOGO_TYPES,
    MAX_LOGO_BYTES,
    PRODUCT_NAME,
    OfficeIdentity,
    OfficeInput,
    office_identity,
    office_logo,
    update_office_identity,
)

__all__ = [
    "LOGO_TYPES",
    "MAX_LOGO_BYTES",
    "PRODUCT_NAME",
    "AdminLogFilters",
    "AdminLogPage",
    "accounts",
    "admin_log",
    "OfficeIdentity",
    "OfficeInput",
    "changed_fields",
    "office_identity",
    "office_logo",
    "record_admin_change",
    "update_office_identity",
    "tokens",
]
