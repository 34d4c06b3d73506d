"""Running an office's Casework: accounts and roles, territories and organisations, the office's
settings, and bringing in an existing caseload; every change is recorded in the administrative
log (casework.security). It uses the security domain for passwords and sessions; it knows nothing
of Flask."""

from casework.administration import accounts, tokens
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
    "accounts",
    "OfficeIdentity",
    "OfficeInput",
    "office_identity",
    "office_logo",
    "update_office_identity",
    "tokens",
]
