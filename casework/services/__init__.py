"""The directory of territorial services: its taxonomy, the services organisations offer,
search and suggestions for a pact, referrals of pacts to services followed until they end,
the public board and the mapping of what is used, refused or missing."""

from casework.services.directory_listing import stale_services_count
from casework.services.languages import LANGUAGE_CODES, LANGUAGES, is_language
from casework.services.taxonomy import load_taxonomy, seed_taxonomy

__all__ = ["LANGUAGES", "LANGUAGE_CODES", "is_language", "load_taxonomy", "seed_taxonomy", "stale_services_count"]
