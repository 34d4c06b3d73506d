"""The directory of territorial services: its taxonomy, the services organisations offer,
search and suggestions for a pact, referrals of pacts to services followed until they end,
the public board and the mapping of what is used, refused or missing."""

from casework.services.directory_listing import stale_services_count
from casework.services.languages import LANGUAGE_CODES, LANGUAGES, is_language
from casework.services.pact_services import pact_services_panel
from casework.services.referrals import (
    ReferralRefused,
    advance_referral,
    install_pact_closing_listener,
    link_action,
    propose_referral,
    record_consent,
    set_provider_contact,
    withdraw_consent,
    withdraw_person_consent,
)
from casework.services.search import (
    SearchChoices,
    ServicePage,
    ServiceQuery,
    get_service,
    is_open,
    opening_table,
    search_choices,
    search_services,
)
from casework.services.search_terms import (
    install_search_terms_listener,
    query_stems,
    refresh_search_terms,
    services_matching,
)
from casework.services.suggestions import (
    OPEN_REFERRAL_STATUSES,
    Suggestion,
    latest_need_profile,
    reason_text,
    suggest_services,
)
from casework.services.taxonomy import load_taxonomy, seed_taxonomy

# Every session keeps the services' search terms in step, whoever writes the service.
install_search_terms_listener()
# ... and ends the open referrals of a pact that closes.
install_pact_closing_listener()

__all__ = [
    "load_taxonomy",
    "seed_taxonomy",
    "query_stems",
    "refresh_search_terms",
    "services_matching",
    "LANGUAGE_CODES",
    "LANGUAGES",
    "is_language",
    "OPEN_REFERRAL_STATUSES",
    "Suggestion",
    "latest_need_profile",
    "reason_text",
    "suggest_services",
    "ServicePage",
    "ServiceQuery",
    "get_service",
    "is_open",
    "opening_table",
    "search_services",
    "stale_services_count",
    "ReferralRefused",
    "advance_referral",
    "link_action",
    "propose_referral",
    "record_consent",
    "set_provider_contact",
    "withdraw_consent",
    "withdraw_person_consent",
    "pact_services_panel",
    "search_choices",
    "SearchChoices",
]
