"""Who may see what, and proof of who did: sign-in and sessions, passwords, the access scoping
every query for people, pacts, referrals and documents goes through, the access log, the edit
history and the administrative log. It knows nothing of Flask and of the other domains; every domain may use it."""

from casework.security.access import (
    access_history_pacts,
    can_read_access_history,
    can_see_beneficiary,
    can_see_pact,
    counts_unassigned_restricted,
    cover_active,
    covered_colleagues,
    get_visible_beneficiary,
    get_visible_pact,
    manageable_users,
    may_read_access_histories,
    pact_assignment,
    pact_counting,
    pact_covered_by,
    pact_visibility,
    territory_and_below,
    territory_subtree,
    visible_beneficiaries,
    visible_case_managers,
    visible_pacts,
    visible_programmes,
    visible_service_referrals,
)
from casework.security.access_history import AccessHistory, AccessHistoryRow, access_history, every_access
from casework.security.admin_log import (
    AdminLogFilters,
    AdminLogPage,
    admin_log,
    changed_fields,
    record_admin_change,
)
from casework.security.audit import log_access, record_changes
from casework.security.audit_chain import seal as seal_audit_logs
from casework.security.auth import deactivate_user, end_user_sessions
from casework.security.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)
from casework.security.record_freeze import (
    asked_by_the_person,
    install_record_freeze,
    open_restriction_of,
    refuse_if_restricted,
    restricted_pact,
)

__all__ = [
    "asked_by_the_person",
    "install_record_freeze",
    "open_restriction_of",
    "refuse_if_restricted",
    "restricted_pact",
    "AccessHistory",
    "AccessHistoryRow",
    "access_history",
    "every_access",
    "access_history_pacts",
    "can_read_access_history",
    "may_read_access_histories",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "password_problem",
    "AdminLogFilters",
    "AdminLogPage",
    "admin_log",
    "changed_fields",
    "record_admin_change",
    "can_see_beneficiary",
    "can_see_pact",
    "cover_active",
    "covered_colleagues",
    "deactivate_user",
    "end_user_sessions",
    "get_visible_beneficiary",
    "get_visible_pact",
    "hash_password",
    "log_access",
    "manageable_users",
    "pact_assignment",
    "pact_covered_by",
    "pact_visibility",
    "pact_counting",
    "counts_unassigned_restricted",
    "record_changes",
    "seal_audit_logs",
    "territory_and_below",
    "territory_subtree",
    "visible_beneficiaries",
    "visible_case_managers",
    "visible_pacts",
    "visible_programmes",
    "verify_password",
    "visible_service_referrals",
]

install_record_freeze()
