"""The people a pact is for: registering and editing a beneficiary (codice fiscale, contacts,
comune), the household, possible duplicates, the person's record and history. It opens a person's
pact through the pacts domain; it knows nothing of Flask."""

from casework.people.beneficiaries import (
    PersonDetails,
    codice_fiscale_problem,
    compact_codice_fiscale,
    create_beneficiary,
    person_problems,
)
from casework.people.erasure import propose_erasures
from casework.people.registration_check import ask_supervisors_about_registration

__all__ = [
    "PersonDetails",
    "ask_supervisors_about_registration",
    "codice_fiscale_problem",
    "compact_codice_fiscale",
    "create_beneficiary",
    "person_problems",
    "propose_erasures",
]
