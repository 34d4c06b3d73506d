"""A pact's service referrals as deadlines: the service's answer to a request, and the start on the agreed day.

The rules come from the workflow's `service_referrals` block; each referral gets its own
deadline per rule, named "<rule id>@<referral id>" (casework.workflow.referral_rule_id), so
it has its own row, reminders and escalations, exactly like a state's deadline
(casework.reminders.deadlines.state_deadlines adds them to the state's own):

- counted `from: requested`: runs while the referral is requested, from the day of the
  request; it is over once the service answers (accepted or refused) or the referral is dropped;
- counted `from: agreed_start`: runs while the referral is accepted with a start date agreed,
  from that date (`in: 0`: due that very day); it is over once the service starts or the
  referral ends. Its row stays the same when the date is agreed again (its anchor is the answer).

A step that is over reads as met, on the day it happened: the row ends then, met in time or not.
The service's name goes with the rule's label wherever a referral deadline is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from casework.models import Service, ServiceReferral, ServiceReferralStatus
from casework.workflow import DeadlineRule, referral_rule_id, split_referral_rule_id

Status = ServiceReferralStatus
_ANSWERED = {Status.ACCEPTED, Status.REFUSED, Status.STARTED, Status.COMPLETED}
_STARTED = {Status.STARTED, Status.COMPLETED}


class ReferralStep(NamedTuple):
    """One referral's deadline for one rule: running, or over (`met`) on `met_on` (None: now)."""

    rule: DeadlineRule  # the workflow's rule, with the referral's own id and the service's name
    natural_anchor_at: datetime
    anchor_on: date
    met: bool
    met_on: date | None


# Read at every move of a pact whose workflow has referral deadlines: built once.
_REFERRALS = (
    select(ServiceReferral.id, ServiceReferral.status, ServiceReferral.requested_at, ServiceReferral.answered_at,
           ServiceReferral.agreed_start_on, ServiceReferral.started_on, ServiceReferral.ended_at, Service.name)
    .join(Service, Service.id == ServiceReferral.service_id)
    .where(ServiceReferral.pact_id == bindparam("pact_id"), ServiceReferral.requested_at.is_not(None))
    .order_by(ServiceReferral.id)
)


def with_service(label: str, service_name: str) -> str:
    """"Risposta del servizio all'invio — Emporio solidale"."""
    return f"{label} — {service_name}" if service_name else label


def _own_rule(rule: DeadlineRule, referral_id: int, service_name: str) -> DeadlineRule:
    return replace(rule, id=referral_rule_id(rule.id, referral_id),
                   label={locale: with_service(text, service_name) for locale, text in rule.label.items()})


def _local_day(at: datetime | None, zone: ZoneInfo) -> date | None:
    return at.astimezone(zone).date() if at is not None else None


def referral_steps(
    session: Session, rules: tuple[DeadlineRule, ...], pact_id: int | None, zone: ZoneInfo
) -> list[ReferralStep]:
    """The deadlines of the pact's requested referrals under `rules`, running or over, in one query."""
    if not rules or pact_id is None:
        return []
    steps = []
    for referral_id, status, requested_at, answered_at, agreed_start_on, started_on, ended_at, name in \
            session.execute(_REFERRALS, {"pact_id": pact_id}):
        ended_on = _local_day(ended_at, zone)
        for rule in rules:
            if rule.anchor == "requested":
                running = status == Status.REQUESTED
                over_on = _local_day(answered_at, zone) if status in _ANSWERED else ended_on
                steps.append(ReferralStep(_own_rule(rule, referral_id, name), requested_at,
                                          requested_at.astimezone(zone).date(), not running,
                                          None if running else over_on))
            elif rule.anchor == "agreed_start" and agreed_start_on is not None and status != Status.REFUSED:
                running = status == Status.ACCEPTED
                over_on = (started_on or ended_on) if status in _STARTED else ended_on
                steps.append(ReferralStep(_own_rule(rule, referral_id, name), answered_at or requested_at,
                                          agreed_start_on, not running, None if running else over_on))
    return steps


def service_names(session: Session, rule_ids: Iterable[str]) -> dict[int, str]:
    """{referral id: its service's name} for the referral deadlines among `rule_ids`: one query, none
    when there is no referral deadline among them."""
    referral_ids = {referral_id for referral_id in (split_referral_rule_id(rule_id)[1] for rule_id in rule_ids if rule_id)
                    if referral_id is not None}
    if not referral_ids:
        return {}
    return dict(session.execute(
        select(ServiceReferral.id, Service.name).join(Service, Service.id == ServiceReferral.service_id)
        .where(ServiceReferral.id.in_(sorted(referral_ids)))
    ).all())
