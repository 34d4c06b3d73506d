"""The demo's directory of services and its pacts' referrals to them.

The directory comes from casework/demo/data/services.toml (read by casework.demo.tables): the
organisations it names that do not exist yet, then their services with comuni and languages.
It is loaded once, when the database has no service at all, so that a demo loaded before the
directory existed gets one too and an administrator's later edits are never overwritten.

The referrals are written as rows after the pacts' histories have been replayed, on pacts past
their screening: their dates lie between the screening and the pact's end (or `now`), their
status fits the pact's state (a closed pact's referrals have ended), and every status and every
refusal and drop reason is represented. Each one has its events in order, and each one past
"proposed" the beneficiary's consent to share data with the provider, recorded just before the
request. They are rows rather than operations because the operations would queue the request
e-mails the demo must not send.

`DemoServices` is one part of the loader (casework.demo.loader), which gives it the session,
the random generator, `now`, today, the time zone and the territories and organisations.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.demo.steps import Case
from casework.demo.tables import SERVICE_PROVIDERS, SERVICE_REFERRAL_TEXTS, TERRITORIES
from casework.models import (
    ConsentLegalBasis,
    DataSharingConsent,
    Organisation,
    Service,
    ServiceComune,
    ServiceLanguage,
    ServiceReferral,
    ServiceReferralEvent,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    User,
)
from casework.reminders import working_day_on_or_before
from casework.services import seed_taxonomy

Status = ServiceReferralStatus
SERVICE_SPECS = {(provider.name, spec.name): spec for provider in SERVICE_PROVIDERS for spec in provider.services}

# Which referral statuses suit a pact in each state: an ended pact's referrals have ended, a pact
# still being designed has none started.
STATUSES_BY_STATE: dict[str, tuple[Status, ...]] = {
    "co_design": (Status.PROPOSED, Status.REQUESTED, Status.ACCEPTED, Status.REFUSED),
    "activation": (Status.PROPOSED, Status.REQUESTED, Status.ACCEPTED, Status.REFUSED, Status.STARTED),
    "follow_up": tuple(Status),
    "suspended": (Status.ACCEPTED, Status.REFUSED, Status.STARTED, Status.DROPPED),
    "engagement": (Status.PROPOSED, Status.REQUESTED, Status.REFUSED),
    "individual_project": (Status.PROPOSED, Status.REQUESTED, Status.ACCEPTED, Status.REFUSED),
    "accompaniment": tuple(Status),
    "verification": (Status.STARTED, Status.COMPLETED, Status.DROPPED, Status.REFUSED),
    "closed": (Status.REFUSED, Status.COMPLETED, Status.DROPPED),
    "withdrawn": (Status.REFUSED, Status.DROPPED),
}
# How often each status is drawn once every one has been seen.
STATUS_WEIGHTS = {
    Status.PROPOSED: 3, Status.REQUESTED: 3, Status.ACCEPTED: 2, Status.REFUSED: 2,
    Status.STARTED: 5, Status.COMPLETED: 4, Status.DROPPED: 2,
}
REFUSAL_REASONS = tuple(SERVICE_REFERRAL_TEXTS.refused)
DROP_REASONS = tuple(SERVICE_REFERRAL_TEXTS.dropped)
# One referral of each: every status and every reason is seen in the demo.
COVERAGE: tuple[tuple[Status, str], ...] = (
    *((Status.REFUSED, reason) for reason in REFUSAL_REASONS),
    *((Status.DROPPED, reason) for reason in DROP_REASONS),
    (Status.PROPOSED, ""), (Status.REQUESTED, ""), (Status.ACCEPTED, ""), (Status.STARTED, ""),
    (Status.COMPLETED, ""),
)
# Where a drop happens, by reason: before the start or while the service runs.
DROP_FROM = {
    "beneficiary_withdrew": (Status.REQUESTED, Status.ACCEPTED, Status.STARTED), "no_show": (Status.ACCEPTED, Status.STARTED),
    "moved_away": (Status.STARTED,), "needs_changed": (Status.STARTED,), "service_closed": (Status.STARTED,),
    "other": (Status.ACCEPTED, Status.STARTED),
}
REFERRED_SHARE = 0.6  # of the pacts past their screening, how many have referrals
PHONE_PREFIX = {"Ambito di Lodi": "0371"}  # the others are in the province of Turin
SAME_STATUS_CONSENT = "consent_recorded"


@dataclass
class _Step:
    status: Status  # the status the step leads to
    gap: int  # days after the previous step
    reason: str = ""


class DemoServices:
    """The directory and the referrals, as methods of the loader."""

    session: Session
    rng: random.Random
    now: datetime
    today: date
    zone: ZoneInfo
    territories: dict[str, Territory]
    comuni: dict[str, list[tuple[Territory, int]]]
    organisations: dict[str, Organisation]
    _fits: Callable[[Case, str], bool]  # casework.demo.steps.Steps._fits: whether a text suits the person

    # ---- the directory --------------------------------------------------------------------

    def _directory(self) -> int:
        """The services of services.toml, unless the database has services already; how many it made."""
        seed_taxonomy(self.session)
        if self.session.scalar(select(func.count()).select_from(Service)):
            return 0
        types = {kind.code: kind for kind in self.session.scalars(select(ServiceType))}
        groups = {name: [self.territories[comune] for comune, _, _ in comuni] for name, _, comuni in TERRITORIES}
        group_of = {comune: name for name, _, comuni in TERRITORIES for comune, _, _ in comuni}
        count = 0
        for provider in SERVICE_PROVIDERS:
            organisation = self._provider(provider.name, provider.kind, provider.territory)
            for spec in provider.services:
                count += 1
                comuni: list[Territory] = []
                for name in spec.comuni:
                    for comune in groups.get(name, [self.territories[name]]):
                        if comune not in comuni:
                            comuni.append(comune)
                first = spec.comuni[0]
                prefix = PHONE_PREFIX.get(group_of.get(first, first), "011")
                checked_on = self.today - relativedelta(months=spec.checked)
                # In the directory since before any demo pact was opened (and so any referral to it).
                created = datetime.combine(self.today - relativedelta(months=max(24, spec.checked + 6)), time(9, 0), tzinfo=self.zone)
                checked_at = datetime.combine(checked_on, time(10, 0), tzinfo=self.zone)
                self.session.add(Service(
                    organisation=organisation, service_type=types[spec.type], name=spec.name,
                    description=spec.description, target_group=spec.target, eligibility=spec.eligibility,
                    access=spec.access, opening_hours=[dict(slot) for slot in spec.hours], opening_notes=spec.notes,
                    address=spec.address, contact_name=spec.contact, contact_email=f"{spec.mailbox}@{provider.domain}",
                    # The unassigned "000" exchange: no real line answers these numbers.
                    contact_phone=f"+39 {prefix} 000 {count:04d}", website=f"https://{provider.domain}/",
                    cost=spec.cost, cost_notes=spec.cost_notes, company_welfare_plan=spec.welfare_plan,
                    capacity=spec.capacity, places_available=spec.places, waiting_list=spec.waiting,
                    active=spec.active, last_checked_on=checked_on,
                    created_at=created.astimezone(timezone.utc), updated_at=min(checked_at.astimezone(timezone.utc), self.now),
                    comuni=[ServiceComune(territory=comune) for comune in comuni],
                    languages=[ServiceLanguage(language=code) for code in sorted(set(spec.languages))],
                ))
        self.session.flush()
        return count

    def _provider(self, name: str, kind: object, territory: str | None) -> Organisation:
        organisation = self.organisations.get(name) or self.session.scalar(select(Organisation).where(Organisation.name == name))
        if organisation is None:
            organisation = Organisation(name=name, kind=kind, territory=self.territories[territory] if territory else None)
            self.session.add(organisation)
        self.organisations[name] = organisation
        return organisation

    # ---- the referrals --------------------------------------------------------------------

    def _service_referrals(self, cases: Sequence[Case]) -> int:
        """Referrals on some pacts past their screening; how many."""
        rng = self.rng
        services = self.session.scalars(select(Service).order_by(Service.id).options(
            selectinload(Service.comuni), joinedload(Service.service_type), joinedload(Service.organisation))).all()
        if not services:
            return 0
        self._linked_actions: set[int] = set()
        # The consents wait for their referral's id (the model links them by id only).
        self._consents: list[tuple[DataSharingConsent, ServiceReferral]] = []
        self._neighbours = {
            comune.id: {other.id for other, _ in group}
            for group in self.comuni.values() for comune, _ in group
        }
        candidates = [
            case for case in cases
            if case.pact is not None and case.pact.latest_screening is not None and case.pact.state in STATUSES_BY_STATE
        ]
        rng.shuffle(candidates)
        candidates = candidates[: max(len(COVERAGE), round(len(candidates) * REFERRED_SHARE))]
        coverage = list(COVERAGE)
        made = 0
        for case in candidates:
            allowed = STATUSES_BY_STATE[case.pact.state]  # type: ignore[union-attr]
            used: set[int] = set()
            for area in self._referral_areas(case)[: rng.choice((1, 1, 2, 2, 3))]:
                wanted = next((item for item in coverage if item[0] in allowed), None)
                if wanted is None:
                    status = _draw(rng, allowed)
                    reasons = REFUSAL_REASONS if status == Status.REFUSED else DROP_REASONS if status == Status.DROPPED else ("",)
                    wanted = (status, rng.choice(reasons))
                service = self._referral_service(case, area, wanted, services, used)
                if service is None:
                    continue
                if self._referral(case, service, area, *wanted):
                    used.add(service.organisation_id)
                    made += 1
                    if wanted in coverage:
                        coverage.remove(wanted)
        self.session.flush()
        for consent, referral in self._consents:
            consent.referral_id = referral.id
        self.session.add_all([consent for consent, _ in self._consents])
        self.session.flush()
        return made

    def _referral_areas(self, case: Case) -> list[str]:
        """The pact's need areas, the screening's highest scores first, then its goals' areas."""
        screening = case.pact.latest_screening  # type: ignore[union-attr]
        profile = dict(screening.need_profile) if screening is not None else {}
        areas = [area for area, score in sorted(profile.items(), key=lambda item: (-item[1], item[0])) if score > 0]
        for goal in case.goals:
            if goal.need_area and goal.need_area not in areas:
                areas.append(goal.need_area)
        return areas

    def _referral_service(
        self, case: Case, area: str, wanted: tuple[Status, str], services: Sequence[Service], used: set[int]
    ) -> Service | None:
        comune = case.beneficiary.comune  # type: ignore[union-attr]
        group = self._neighbours.get(comune.id, {comune.id})
        of_area = [s for s in services if s.service_type.need_area == area and s.organisation_id not in used
                   and self._suits(case, s)]
        here = [s for s in of_area if s.active and any(c.territory_id == comune.id for c in s.comuni)]
        near = [s for s in of_area if s.active and s not in here and any(c.territory_id in group for c in s.comuni)]
        reason = wanted[1]
        if reason == "out_of_area":
            options = near
        elif reason == "no_places":
            options = [s for s in here if s.places_available == 0] or here
        elif reason == "service_closed":
            options = [s for s in of_area if not s.active and any(c.territory_id == comune.id for c in s.comuni)] or here
        else:
            options = here
        return self.rng.choice(options) if options else None

    def _suits(self, case: Case, service: Service) -> bool:
        """Whether the service is for this pact's person (services.toml's `who` and `referred`)."""
        spec = SERVICE_SPECS.get((service.organisation.name, service.name))
        if spec is None:  # a service the demo did not make
            return True
        if not spec.referred:
            return False
        for alternative in spec.who.split("|"):
            tags = []
            fits = True
            for token in alternative.split():
                if token == "adult":
                    fits = fits and not case.is_chance
                elif token == "young":
                    fits = fits and case.is_chance
                elif token.startswith("="):
                    fits = fits and case.spec.code == token[1:]
                else:
                    tags.append(token)
            if fits and self._fits(case, " ".join(tags)):
                return True
        return False

    def _referral(self, case: Case, service: Service, area: str, status: Status, reason: str) -> bool:
        """One referral with its events and consent; False when its steps do not fit the pact's time."""
        rng = self.rng
        pact = case.pact
        assert pact is not None and pact.latest_screening is not None
        steps = [_Step(Status.PROPOSED, 0)]
        if status != Status.PROPOSED:
            steps.append(_Step(Status.REQUESTED, rng.randint(1, 8)))
        if status == Status.REFUSED:
            steps.append(_Step(Status.REFUSED, rng.randint(2, 15), reason))
        elif status in (Status.ACCEPTED, Status.STARTED, Status.COMPLETED):
            steps.append(_Step(Status.ACCEPTED, rng.randint(2, 15)))
        if status in (Status.STARTED, Status.COMPLETED):
            steps.append(_Step(Status.STARTED, rng.randint(3, 20)))
        if status == Status.COMPLETED:
            steps.append(_Step(Status.COMPLETED, rng.randint(20, 120)))
        if status == Status.DROPPED:
            stop = rng.choice(DROP_FROM[reason])
            if stop in (Status.ACCEPTED, Status.STARTED):
                steps.append(_Step(Status.ACCEPTED, rng.randint(2, 15)))
            if stop == Status.STARTED:
                steps.append(_Step(Status.STARTED, rng.randint(3, 20)))
            steps.append(_Step(Status.DROPPED, rng.randint(5, 60), reason))
        moments = self._moments(pact.latest_screening.completed_at, pact.closed_at, steps, open_ended=status in (
            Status.PROPOSED, Status.REQUESTED, Status.ACCEPTED, Status.STARTED))
        if moments is None:
            return False
        manager: User = case.manager
        area_word = case.engine.definition.label_of("need_area", area, "it").lower()
        referral = ServiceReferral(
            pact=pact, service=service, status=status, need_area=area, proposed_at=moments[0], proposed_by_id=manager.id,
            updated_at=moments[-1],
            # The pact's action for the same need, if no other referral carries it out yet.
            action=next((a for a in case.actions if a.goal is not None and a.goal.need_area == area
                         and id(a) not in self._linked_actions), None),
        )
        if referral.action is not None:
            self._linked_actions.add(id(referral.action))
        self.session.add(referral)
        events = [ServiceReferralEvent(
            referral=referral, pact_id=pact.id, at=moments[0], actor_id=manager.id, from_status="",
            to_status=Status.PROPOSED.value, note=rng.choice(SERVICE_REFERRAL_TEXTS.proposed).format(area=area_word),
        )]
        previous = Status.PROPOSED
        for step, moment in zip(steps[1:], moments[1:], strict=True):
            if step.status == Status.REQUESTED:
                events.append(self._consent(case, referral, service, moments[0], moment))
                referral.requested_at = moment
                referral.provider_contact = f"{service.contact_name}, {service.contact_email}, {service.contact_phone}"
            elif step.status in (Status.ACCEPTED, Status.REFUSED):
                referral.answered_at = moment
                if step.status == Status.REFUSED:
                    referral.refusal_reason, referral.ended_at = step.reason, moment
                else:
                    referral.agreed_start_on = self._local(moment) + timedelta(days=rng.randint(3, 14))
            elif step.status == Status.STARTED:
                referral.started_on = self._local(moment)
                referral.agreed_start_on = min(referral.agreed_start_on or referral.started_on, referral.started_on)
            else:
                referral.ended_at = moment
                if step.status == Status.DROPPED:
                    referral.drop_reason = step.reason
            events.append(ServiceReferralEvent(
                referral=referral, pact_id=pact.id, at=moment, actor_id=manager.id, from_status=previous.value,
                to_status=step.status.value, reason=step.reason, note=self._step_note(step),
            ))
            previous = step.status
        self.session.add_all(events)
        return True

    def _step_note(self, step: _Step) -> str:
        texts = SERVICE_REFERRAL_TEXTS
        if step.status == Status.REFUSED:
            return texts.refused[step.reason]
        if step.status == Status.DROPPED:
            return texts.dropped[step.reason]
        options = {Status.REQUESTED: texts.requested, Status.ACCEPTED: texts.accepted, Status.STARTED: texts.started,
                   Status.COMPLETED: texts.completed}[step.status]
        return self.rng.choice(options)

    def _consent(self, case: Case, referral: ServiceReferral, service: Service, proposed_at: datetime,
                 requested_at: datetime) -> ServiceReferralEvent:
        """The beneficiary's consent, collected by the case manager minutes before the request."""
        recorded_at = max(requested_at - timedelta(minutes=self.rng.randint(3, 40)), proposed_at + timedelta(minutes=1))
        recorded_at = min(recorded_at, requested_at)
        purpose = self.rng.choice(SERVICE_REFERRAL_TEXTS.consent_purposes).format(
            servizio=service.name, ente=service.organisation.name)
        given_on = self._local(recorded_at)
        consent = DataSharingConsent(
            beneficiary=case.beneficiary, organisation=service.organisation, given_on=given_on,
            purpose=purpose, legal_basis=ConsentLegalBasis.CONSENT, collected_by_id=case.manager.id,
            recorded_at=recorded_at,
        )
        self._consents.append((consent, referral))
        return ServiceReferralEvent(
            referral=referral, pact_id=referral.pact.id, at=recorded_at, actor_id=case.manager.id,
            from_status=Status.PROPOSED.value, to_status=Status.PROPOSED.value, reason=SAME_STATUS_CONSENT,
            note=SERVICE_REFERRAL_TEXTS.consent_note.format(
                ente=service.organisation.name, giorno=given_on.strftime("%d/%m/%Y"), finalita=purpose),
        )

    def _moments(self, screened_at: datetime, closed_at: datetime | None, steps: list[_Step],
                 open_ended: bool) -> list[datetime] | None:
        """The steps' moments, in office hours on working days, between the screening and the pact's end.

        The gaps shrink to fit; an open referral's last step is left some days before the end,
        so that some are waiting for their next step and some are late. None when they cannot fit.
        """
        rng = self.rng
        earliest = screened_at + timedelta(minutes=30)
        end = min(closed_at, self.now) if closed_at is not None else self.now
        end = end - timedelta(minutes=30)
        first_day, last_day = self._local(earliest), self._local(end)
        span = (last_day - first_day).days
        gaps = [step.gap for step in steps]
        tail = rng.randint(0, 25) if open_ended else rng.randint(0, 5)
        total = sum(gaps) + tail
        if total > span:
            factor = max(span, 0) / total
            gaps, tail = [int(gap * factor) for gap in gaps], int(tail * factor)
        day = last_day - timedelta(days=sum(gaps) + tail)
        moments: list[datetime] = []
        previous = earliest - timedelta(minutes=5)
        for gap in gaps:
            day = day + timedelta(days=gap)
            working = max(working_day_on_or_before(day), first_day)
            local = datetime.combine(working, time(9, 0), tzinfo=self.zone) + timedelta(minutes=rng.randint(0, 510))
            moment = max(local.astimezone(timezone.utc), previous + timedelta(minutes=rng.randint(5, 25)))
            if moment >= end:
                return None
            moments.append(moment)
            previous = moment
        return moments

    def _local(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def _draw(rng: random.Random, allowed: Sequence[Status]) -> Status:
    return rng.choices(list(allowed), weights=[STATUS_WEIGHTS[s] for s in allowed])[0]

