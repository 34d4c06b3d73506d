"""Mapping of the territory's services for the territorial manager: what is used, refused or missing.

For a period of local days, a programme or all, a territory or all (casework.reporting.period):
the service referrals made in the period by macro-area, by the beneficiary's comune and by
status; per service, acceptance and completion rates and the median days from request to
start; refusals and drops by reason; and the gaps, where screenings show demand in a comune
and need area but the directory has no active service there, or none with places.

Referrals and screenings are read only through the pacts the reader may see
(`casework.security.pact_visibility`); services through the comuni of the reader's territory
(or the chosen one) and below. Every figure is an SQL aggregate (GROUP BY, COUNT, window
functions); no referral, pact or person is loaded. The medians are computed in SQL on both
databases by the indicators' percentile query (row_number over the day differences).
The result is a list of `casework.reporting.report_tables.Table`, like the indicators: the page,
the charts and the CSV and XLSX exports read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache, viewer_key
from casework.i18n import N_, Message, gettext
from casework.models import (
    Beneficiary,
    Organisation,
    Pact,
    Programme,
    Screening,
    Service,
    ServiceComune,
    ServiceMacroArea,
    ServiceReferral,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    TerritoryKind,
    User,
    has_places,
)
from casework.models.labels import (
    SERVICE_DROP_REASONS,
    SERVICE_REFERRAL_STATUSES,
    SERVICE_REFUSAL_REASONS,
)
from casework.reporting.export_files import About, ExportFile, check_format, export_file, file_part
from casework.reporting.exports import (
    chosen_tables,
    record_export,
    scope_details,
    scope_file_part,
    scope_lines,
)
from casework.reporting.indicators import grouped_percentiles
from casework.reporting.period import IndicatorScope, LocalCalendar, period_problems
from casework.reporting.report_tables import Cell, Column, Table
from casework.security import (
    pact_visibility,
    territory_and_below,
    territory_subtree,
    visible_programmes,
)
from casework.workflow import WorkflowRegistry

TABLE_KEYS = ("outcomes", "macro_areas", "comuni", "services", "refusals", "drops", "gaps", "demand")
GAP_NO_SERVICE, GAP_NO_PLACES = "no_service", "no_places"
KIND_MAPPING = "service_mapping"
_ALL = "all"

TEXTS: dict[str, Message] = {
    "title": N_("Mapping of the services"),
    "outcomes.title": N_("Service referrals by status"),
    "macro_areas.title": N_("Service referrals by macro-area"),
    "comuni.title": N_("Service referrals by the beneficiary's comune"),
    "services.title": N_("Acceptance and completion per service"),
    "refusals.title": N_("Refusals by reason"),
    "drops.title": N_("Referrals dropped, by reason"),
    "gaps.title": N_("Gaps: demand with no active service or no places"),
    "demand.title": N_("Demand and services per comune and need area"),
    "outcomes.sheet": N_("By status"),
    "macro_areas.sheet": N_("By macro-area"),
    "comuni.sheet": N_("By comune"),
    "services.sheet": N_("Per service"),
    "refusals.sheet": N_("Refusals"),
    "drops.sheet": N_("Dropped referrals"),
    "gaps.sheet": N_("Gaps"),
    "demand.sheet": N_("Demand and services"),
    "referrals.note": N_("Service referrals of the pacts the reader may see, added in the period, by their status "
                         "today; share of those referrals."),
    "comuni.note": N_("Service referrals added in the period, by the comune where the beneficiary lives; share of "
                      "those referrals."),
    "services.note": N_("Service referrals added in the period, per service. Acceptance = accepted ÷ answered "
                        "(accepted, started, completed, or dropped after the service's answer; refused ones are "
                        "answered but not accepted). Completion = completed ÷ started. Median days from the request "
                        "to the start, with linear interpolation; n = referrals started after a request."),
    "refusals.note": N_("Service referrals added in the period and refused by the service, by reason; share of the "
                        "refusals."),
    "drops.note": N_("Service referrals added in the period and dropped, by reason; share of those dropped."),
    "gaps.note": N_("Comuni and need areas where at least one person's latest screening (of a pact open in the "
                    "period) scores above zero, but no active service of a type answering that need area serves the "
                    "comune, or none of those has places (places available, or no fixed capacity). People = "
                    "demand; largest first."),
    "demand.note": N_("Every comune and need area with demand: people whose latest screening scores above zero in "
                      "the area, active services serving the comune for that area, and how many of them have places."),
    "col.code": N_("Code"),
    "col.label": N_("Item"),
    "col.count": N_("Referrals"),
    "col.share": N_("Share"),
    "col.istat_code": N_("ISTAT code"),
    "col.comune": N_("Comune"),
    "col.service_id": N_("Service no."),
    "col.organisation": N_("Organisation"),
    "col.answered": N_("Answered"),
    "col.accepted": N_("Referrals accepted"),
    "col.acceptance": N_("Acceptance rate"),
    "col.started": N_("Referrals started"),
    "col.completed": N_("Referrals completed"),
    "col.completion": N_("Completion rate"),
    "col.median_days": N_("Median days from request to start"),
    "col.n": N_("Started after a request (n)"),
    "col.reason": N_("Reason code"),
    "col.need_area": N_("Need area code"),
    "col.people": N_("People in need"),
    "col.services": N_("Active services"),
    "col.with_places": N_("Services with places"),
    "col.gap": N_("Gap code"),
    "col.gap_label": N_("Gap"),
    "comune.not_recorded": N_("Comune not recorded"),
    "gap.no_service": N_("No active service"),
    "gap.no_places": N_("No places"),
    "gap.none": N_("Covered"),
}


@dataclass(frozen=True)
class MappingFigures:
    """The few figures the mapping page, the indicators and the funder report open with."""

    referrals: int
    answered: int
    accepted: int
    acceptance_rate: float | None  # None when no referral was answered
    started: int
    completed: int
    completion_rate: float | None  # None when none started
    median_days_to_start: float | None  # None when none started after a request
    gaps: int


@dataclass(frozen=True)
class ServiceMappingReport:
    scope: IndicatorScope
    programme: Programme | None
    territory: Territory | None
    tables: list[Table]
    key_figures: MappingFigures

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute_service_mapping(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *,
    now: datetime, locale: str, zone: ZoneInfo,
) -> ServiceMappingReport:
    """Every mapping table for `scope`, as `user` may see it, labelled in `locale`.

    Raises InvalidInput (the indicators' codes) for a period that cannot be reported on, a
    programme the user does not oversee or a territory outside theirs.
    """
    errors = period_problems(scope)
    programme = territory = None
    if scope.programme_id is not None:
        programme = session.scalars(
            visible_programmes(user).where(Programme.id == scope.programme_id)).one_or_none()
        if programme is None:
            errors["programme"] = "not_an_option"
    if scope.territory_id is not None:
        territory = session.scalars(select(Territory).where(
            Territory.id == scope.territory_id, Territory.id.in_(territory_subtree(user)))).one_or_none()
        if territory is None:
            errors["territory"] = "not_an_option"
    if errors:
        raise InvalidInput(errors)

    def count() -> tuple[tuple[list[Table], MappingFigures], datetime]:
        mapper = _Mapper(session, registry, user, scope, programme, now=now, locale=locale, zone=zone)
        services, figures = mapper.services()
        gaps, demand = mapper.gaps()
        tables = [mapper.outcomes(), mapper.macro_areas(), mapper.comuni(), services, *mapper.reasons(), gaps, demand]
        midnight = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone).astimezone(UTC)
        return (tables, MappingFigures(**figures, gaps=len(gaps.rows))), midnight

    # Shown on the indicators page too, and as costly: kept like the indicators.
    tables, figures = _REPORTS.get(session, ("service_mapping", viewer_key(user), scope, locale, zone.key), count, now=now)
    return ServiceMappingReport(scope, programme, territory, list(tables), figures)


_REPORTS: FigureCache[tuple[list[Table], MappingFigures]] = FigureCache()


class _Mapper:
    """The queries of one mapping: the scope's bounds and labels, shared by every table."""

    def __init__(self, session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope,
                 programme: Programme | None, *, now: datetime, locale: str, zone: ZoneInfo):
        self.session, self.registry, self.user, self.scope, self.now = session, registry, user, scope, now
        self.programme = programme
        self.locale = locale
        self.start_at = datetime.combine(scope.start, time.min, zone).astimezone(UTC)
        self.end_at = datetime.combine(scope.end + timedelta(days=1), time.min, zone).astimezone(UTC)
        self.calendar = LocalCalendar(session, zone)

    def text(self, key: str) -> str:
        return gettext(self.locale, TEXTS[key])

    def column(self, key: str, kind: str = "text") -> Column:
        return Column(key, self.text(f"col.{key}"), kind)

    def pact_conditions(self) -> list[ColumnElement[bool]]:
        """The pacts of the scope the user may see (joined to their beneficiary)."""
        conditions: list[ColumnElement[bool]] = [pact_visibility(self.user, self.now)]
        if self.scope.programme_id is not None:
            conditions.append(Pact.programme_id == self.scope.programme_id)
        if self.scope.territory_id is not None:
            conditions.append(Beneficiary.comune_id.in_(
                territory_and_below(self.scope.territory_id, name="scope_territory")))
        return conditions

    def comuni_in_scope(self) -> Any:
        """Ids of the territories whose services and demand the gaps compare."""
        # Named apart from the pacts' own territory condition: both may sit in one statement.
        return territory_and_below(self.scope.territory_id or self.user.territory_id, name="mapped_territory")

    def referrals(self) -> CTE:
        """The service referrals added in the period to the pacts of the scope."""
        return (
            select(ServiceReferral.id, ServiceReferral.service_id, ServiceReferral.status,
                   ServiceReferral.requested_at, ServiceReferral.answered_at, ServiceReferral.started_on,
                   ServiceReferral.refusal_reason, ServiceReferral.drop_reason, Beneficiary.comune_id)
            .join(Pact, Pact.id == ServiceReferral.pact_id)
            .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
            .where(*self.pact_conditions(), ServiceReferral.proposed_at >= self.start_at,
                   ServiceReferral.proposed_at < self.end_at)
            .cte("scoped_referral")
        )

    def breakdown(self, key: str, code_column: Column, rows: list[tuple[Cell, str, int]], note: str, *,
                  chart: str = "") -> Table:
        total = sum(count for *_, count in rows)
        return Table(
            key, self.text(f"{key}.title"),
            (code_column, self.column("label"), self.column("count", "count"), self.column("share", "share")),
            tuple((code, label, count, _share(count, total)) for code, label, count in rows),
            note=note, chart=chart, sheet=self.text(f"{key}.sheet"),
        )

    # -- tables -------------------------------------------------------------------------

    def outcomes(self) -> Table:
        referrals = self.referrals()
        counts = dict(self.session.execute(
            select(referrals.c.status, func.count()).group_by(referrals.c.status)).tuples().all())
        rows = [(status.value, gettext(self.locale, label), counts.get(status, 0))
                for status, label in SERVICE_REFERRAL_STATUSES.items()]
        return self.breakdown("outcomes", self.column("code"), rows, self.text("referrals.note"))

    def macro_areas(self) -> Table:
        referrals = self.referrals()
        found = self.session.execute(
            select(ServiceMacroArea.code, ServiceMacroArea.label_it, ServiceMacroArea.label_en,
                   func.count(referrals.c.id))
            .select_from(ServiceMacroArea)
            .outerjoin(ServiceType, ServiceType.macro_area_id == ServiceMacroArea.id)
            .outerjoin(Service, Service.type_id == ServiceType.id)
            .outerjoin(referrals, referrals.c.service_id == Service.id)
            .group_by(ServiceMacroArea.id, ServiceMacroArea.code, ServiceMacroArea.label_it,
                      ServiceMacroArea.label_en, ServiceMacroArea.position)
            .order_by(ServiceMacroArea.position, ServiceMacroArea.code)
        ).tuples().all()
        rows = [(code, label_it if self.locale == "it" else label_en, count)
                for code, label_it, label_en, count in found]
        return self.breakdown("macro_areas", self.column("code"), rows, self.text("referrals.note"), chart="bars")

    def comuni(self) -> Table:
        referrals = self.referrals()
        found = self.session.execute(
            select(Territory.istat_code, Territory.name, func.count())
            .select_from(referrals).outerjoin(Territory, Territory.id == referrals.c.comune_id)
            .group_by(Territory.id, Territory.istat_code, Territory.name)
            # Largest first; referrals of people with no comune recorded last.
            .order_by(Territory.id.is_(None), func.count().desc(), Territory.name)
        ).tuples().all()
        rows = [(istat, name if name is not None else self.text("comune.not_recorded"), count)
                for istat, name, count in found]
        return self.breakdown("comuni", self.column("istat_code"), rows, self.text("comuni.note"))

    def services(self) -> tuple[Table, dict[str, Any]]:
        referrals = self.referrals()
        answered = referrals.c.answered_at.is_not(None)
        accepted = and_(answered, referrals.c.status != ServiceReferralStatus.REFUSED)
        started = referrals.c.started_on.is_not(None)
        completed = referrals.c.status == ServiceReferralStatus.COMPLETED
        found = self.session.execute(
            select(Service.id, Service.name, Organisation.name, func.count(),
                   *(func.count(case((condition, referrals.c.id))) for condition in (answered, accepted, started,
                                                                                     completed)))
            .select_from(referrals).join(Service, Service.id == referrals.c.service_id)
            .join(Organisation, Organisation.id == Service.organisation_id)
            .group_by(Service.id, Service.name, Organisation.name)
            .order_by(func.count().desc(), Service.name, Service.id)
        ).tuples().all()
        medians = self.medians()
        rows = []
        for service_id, name, organisation, count, n_answered, n_accepted, n_started, n_completed in found:
            n, median = medians.get(str(service_id), (0, None))
            rows.append((service_id, f"{name} ({organisation})", organisation, count, n_answered, n_accepted,
                         _share(n_accepted, n_answered), n_started, n_completed, _share(n_completed, n_started),
                         median, n))
        columns = (
            self.column("service_id"), self.column("label"), self.column("organisation"),
            self.column("count", "count"), self.column("answered", "count"), self.column("accepted", "count"),
            self.column("acceptance", "share"), self.column("started", "count"), self.column("completed", "count"),
            self.column("completion", "share"), self.column("median_days", "days"), self.column("n", "count"),
        )
        table = Table("services", self.text("services.title"), columns, tuple(rows), note=self.text("services.note"),
                      sheet=self.text("services.sheet"))
        totals = [sum(row[index] for row in rows) for index in (3, 4, 5, 7, 8)]
        figures = {
            "referrals": totals[0], "answered": totals[1], "accepted": totals[2],
            "acceptance_rate": _share(totals[2], totals[1]), "started": totals[3], "completed": totals[4],
            "completion_rate": _share(totals[4], totals[3]), "median_days_to_start": medians.get(_ALL, (0, None))[1],
        }
        return table, figures

    def medians(self) -> dict[str, tuple[int, float | None]]:
        """Per service id (as text), and for all of them ("all"): (n, median days from request to start)."""
        referrals = self.referrals()
        calendar = self.calendar
        days = calendar.days_between(referrals.c.started_on, calendar.day(referrals.c.requested_at))
        both = and_(referrals.c.started_on.is_not(None), referrals.c.requested_at.is_not(None))
        durations = union_all(
            select(cast(referrals.c.service_id, String).label("grp"), days.label("days")).where(both),
            select(literal_column(f"'{_ALL}'"), days).where(both),
        ).subquery("service_duration")
        return {group: (n, median) for group, n, median, _ in self.session.execute(
            grouped_percentiles(durations.c.grp, durations.c.days))}

    def reasons(self) -> tuple[Table, Table]:
        referrals = self.referrals()
        refused = referrals.c.status == ServiceReferralStatus.REFUSED
        reason = case((refused, referrals.c.refusal_reason), else_=referrals.c.drop_reason)
        found = self.session.execute(
            select(refused, reason, func.count())
            .where(referrals.c.status.in_([ServiceReferralStatus.REFUSED, ServiceReferralStatus.DROPPED]))
            .group_by(refused, reason)
        ).tuples().all()
        tables = []
        for key, is_refusal, labels in (("refusals", True, SERVICE_REFUSAL_REASONS),
                                        ("drops", False, SERVICE_DROP_REASONS)):
            counts = {code: count for flag, code, count in found if bool(flag) == is_refusal}
            # The reasons people choose, always; one Casework sets itself (the pact closed) when it happened.
            codes = [code for code in labels if code != "pact_closed"]
            codes += sorted(code for code in counts if code not in codes)
            rows = [(code, gettext(self.locale, labels[code]) if code in labels else code, counts.get(code, 0))
                    for code in codes]
            tables.append(self.breakdown(key, self.column("reason"), rows, self.text(f"{key}.note")))
        return tables[0], tables[1]

    def need_areas(self) -> dict[str, str]:
        """Need area -> its label, from the latest version of every workflow with a questionnaire;
        the chosen programme's workflow first, so its words and order win."""
        areas: dict[str, str] = {}
        names = self.registry.names()
        if self.programme is not None and self.programme.workflow_name in names:
            names = [self.programme.workflow_name, *(name for name in names if name != self.programme.workflow_name)]
        for name in names:
            definition = self.registry.latest(name).definition
            for area in definition.questionnaire.need_areas if definition.questionnaire else ():
                areas.setdefault(area, definition.label_of("need_area", area, self.locale))
        return areas

    def gaps(self) -> tuple[Table, Table]:
        areas = self.need_areas()
        in_scope = self.comuni_in_scope()
        # Each person's latest screening completed by the end of the period, among the pacts of
        # the scope open at some time in the period.
        latest = (
            select(Pact.beneficiary_id, Beneficiary.comune_id, Screening.need_profile,
                   func.row_number().over(partition_by=Pact.beneficiary_id,
                                          order_by=(Screening.completed_at.desc(), Screening.id.desc())).label("rn"))
            .join(Pact, Pact.id == Screening.pact_id).join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
            .where(*self.pact_conditions(), Screening.completed_at < self.end_at, Pact.opened_at < self.end_at,
                   or_(Pact.closed_at.is_(None), Pact.closed_at >= self.start_at),
                   Beneficiary.comune_id.in_(in_scope))
            .subquery("latest_screening")
        )
        demand: dict[tuple[int, str], int] = {}
        comuni: dict[int, tuple[str | None, str]] = {}
        if areas:
            found = self.session.execute(
                select(Territory.id, Territory.istat_code, Territory.name,
                       *(func.sum(case((latest.c.need_profile[area].as_integer() > 0, 1), else_=0)) for area in areas))
                .select_from(latest).join(Territory, Territory.id == latest.c.comune_id)
                .where(latest.c.rn == 1).group_by(Territory.id, Territory.istat_code, Territory.name)
            ).tuples().all()
            for territory_id, istat, name, *counts in found:
                comuni[territory_id] = (istat, name)
                for area, count in zip(areas, counts):
                    if count:
                        demand[(territory_id, area)] = int(count)
        with_places = has_places()
        supply = {
            (territory_id, area): (services, with_places)
            for territory_id, area, services, with_places in self.session.execute(
                select(ServiceComune.territory_id, ServiceType.need_area, func.count(distinct(Service.id)),
                       func.count(distinct(case((with_places, Service.id)))))
                .join(Service, Service.id == ServiceComune.service_id)
                .join(ServiceType, ServiceType.id == Service.type_id)
                .join(Territory, Territory.id == ServiceComune.territory_id)
                .where(Service.active.is_(True), ServiceType.need_area != "", Territory.kind == TerritoryKind.COMUNE,
                       ServiceComune.territory_id.in_(self.comuni_in_scope()))
                .group_by(ServiceComune.territory_id, ServiceType.need_area)
            ).tuples()
        }
        order = list(areas)
        rows = []
        for (territory_id, area), people in sorted(
                demand.items(), key=lambda item: (-item[1], comuni[item[0][0]][1], order.index(item[0][1]))):
            istat, name = comuni[territory_id]
            services, with_places = supply.get((territory_id, area), (0, 0))
            gap = GAP_NO_SERVICE if not services else GAP_NO_PLACES if not with_places else ""
            rows.append((istat, name, area, f"{name}: {areas[area]}", people, services, with_places, gap,
                         self.text(f"gap.{gap or 'none'}")))
        columns = (
            self.column("istat_code"), self.column("comune"), self.column("need_area"), self.column("label"),
            self.column("people", "count"), self.column("services", "count"), self.column("with_places", "count"),
            self.column("gap"), self.column("gap_label"),
        )
        gaps = Table("gaps", self.text("gaps.title"), columns, tuple(row for row in rows if row[7]),
                     note=self.text("gaps.note"), chart="bars", sheet=self.text("gaps.sheet"))
        every = Table("demand", self.text("demand.title"), columns, tuple(rows), note=self.text("demand.note"),
                      sheet=self.text("demand.sheet"))
        return gaps, every


def export_service_mapping(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, fmt: str,
    table_key: str | None = None, now: datetime, locale: str, zone: ZoneInfo, ip_address: str = "",
) -> ExportFile:
    """Every mapping table as one XLSX, or one table (`table_key`) as CSV, recorded in the access log."""
    check_format(fmt)
    report = compute_service_mapping(session, registry, user, scope, now=now, locale=locale, zone=zone)
    tables = chosen_tables(report.tables, table_key, fmt)
    about = About(gettext(locale, TEXTS["title"]), scope_lines(report.programme, report.territory, scope, locale),
                  now, user.full_name, locale, zone)
    scope_part = scope_file_part(report.programme, scope)
    name = (f"casework-service-mapping-{scope_part}" if table_key is None
            else f"casework-service-mapping-{file_part(table_key)}-{scope_part}")
    rows = sum(len(table.rows) for table in tables)
    exported = export_file(fmt, name, rows, csv_table=tables[0], xlsx_tables=tables, about=about)
    kind = KIND_MAPPING if table_key is None else f"{KIND_MAPPING}:{table_key}"
    record_export(session, user, kind, fmt, rows, scope_details(report.programme, scope), now=now,
                  ip_address=ip_address)
    return exported


__all__ = ["GAP_NO_PLACES", "GAP_NO_SERVICE", "TABLE_KEYS", "MappingFigures", "ServiceMappingReport",
           "compute_service_mapping", "export_service_mapping"]
