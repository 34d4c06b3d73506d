"""The targets a programme can set that Casework measures itself.

A funder's target names one of these codes; any other code is kept and shown as written,
but Casework cannot compute it (e.g. "30 women in self-employment training").
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.i18n import N_, Message


@dataclass(frozen=True)
class TargetIndicator:
    code: str
    label: Message
    kind: str  # "count": a number of people; "share": a fraction between 0 and 1 (at least)


TARGET_INDICATORS: dict[str, TargetIndicator] = {
    target.code: target
    for target in (
        TargetIndicator(
            "beneficiaries", N_("People reached"), "count"),
        TargetIndicator(
            "share_women", N_("Share of women"), "share"),
        TargetIndicator(
            "share_migrant_background",
            N_("Share of people with a migrant background"),
            "share"),
        TargetIndicator(
            "share_goals_achieved",
            N_("Share of closed pacts with goals fully achieved"),
            "share"),
        TargetIndicator(
            "share_deadlines_met",
            N_("Share of deadlines met on time"), "share"),
    )
}


def is_measured(code: str) -> bool:
    return code in TARGET_INDICATORS
