"""The directory of territorial services: its taxonomy, the services organisations offer,
search and suggestions for a pact, referrals of pacts to services followed until they end,
the public board and the mapping of what is used, refused or missing."""

from casework.services.taxonomy import load_taxonomy, seed_taxonomy
from casework.services.referrals import ReferralRefused, advance_referral, link_action, propose_referral
from casework.services.referrals import record_consent, set_provider_contact, withdraw_consent
from casework.services.pact_services import pact_services_panel

__all__ = [
    "load_taxonomy",
    "seed_taxonomy",
    "ReferralRefused",
    "advance_referral",
    "link_action",
    "propose_referral",
    "record_consent",
    "set_provider_contact",
    "withdraw_consent",
    "pact_services_panel",
]
