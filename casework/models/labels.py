"""The words for the models' codes (gender, referral source, contact channel, priority): one
definition, shown by the forms, the pages and the exports alike.

Each word is a message of the translation catalogue (casework.i18n), translated where it is
shown. Written to stand alone ("Home visit"); inside a sentence a page uses it in lower case.
"""

from __future__ import annotations

from casework.i18n import N_, Message
from casework.models.beneficiary import Gender
from casework.models.pact import ContactChannel, Priority, ReferralSource

GENDERS: dict[Gender, Message] = {
    Gender.FEMALE: N_("Female"),
    Gender.MALE: N_("Male"),
    Gender.OTHER: N_("Other gender"),
}
REFERRAL_SOURCES: dict[ReferralSource, Message] = {
    ReferralSource.SCHOOL: N_("School"),
    ReferralSource.SOCIAL_SERVICES: N_("Social services"),
    ReferralSource.EDUCATIONAL_SERVICES: N_("Educational services"),
    ReferralSource.COMPANY: N_("Company (human resources)"),
    ReferralSource.SPORTELLO: N_("Help desk (sportello, antenna)"),
    ReferralSource.SELF: N_("Self-referral"),
    ReferralSource.OTHER: N_("Other"),
}
CONTACT_CHANNELS: dict[ContactChannel, Message] = {
    ContactChannel.IN_PERSON: N_("In person"),
    ContactChannel.PHONE: N_("Phone"),
    ContactChannel.VIDEO: N_("Video call"),
    ContactChannel.EMAIL: N_("E-mail"),
    ContactChannel.HOME_VISIT: N_("Home visit"),
}
PRIORITIES: dict[Priority, Message] = {
    Priority.LOW: N_("Low"),
    Priority.MEDIUM: N_("Medium"),
    Priority.HIGH: N_("High"),
}
