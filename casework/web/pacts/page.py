"""The pact page: where the pact stands, the moves possible now, a form per stage; the print view.

The page is a workspace: a header with the moves possible now, then the pact's parts, the
current stage's work first. Each POST parses one form and calls one core operation with the
version the person read. Bad input answers 422 with the form's part opened first and its
errors summed up on top; a concurrent change answers 409 with the person's input kept;
success redirects back to the part (post/redirect/get). A move that asks something (a
reason, a comment, a confirmation) is a dialog on the page and, without JavaScript, a page
of its own (`move_page`); after a move the person goes back where they came from (`next`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms.validators import DataRequired

from casework.errors import Conflict, EventNotAvailable, InvalidInput, TransitionRefused
from casework.figure_cache import FigureCache
from casework.models import (
    ActionStatus,
    Beneficiary,
    ContactChannel,
    Gender,
    GoalsAchieved,
    ItemStatus,
    Pact,
    Performer,
    ReferralSource,
)
from casework.pacts import operations as ops
from casework.pacts.page import (
    COMMENT_GUARD,
    PAGE_LOADS,
    Choice,
    PactPage,
    PossibleEvent,
    need_area_choices,
    outcome_choices,
    pact_page,
    print_page,
    questionnaire_sections,
    reason_choices,
    stage_label,
)
from casework.security import covered_colleagues
from casework.security.audit import log_access
from casework.web import context, saving
from casework.web.kept_parts import KeptPart, end_of_today, kept_part
from casework.web.pacts import forms
from casework.web.people.restriction import restriction_notice
from casework.web.services.referrals import services_part
from casework.workflow import REASON_GUARD

blueprint = Blueprint("pacts", __name__)

CONFLICT_MESSAGE = _l(
    "Someone else changed this pact while you were editing. Your input is below: "
    "check the current data and save again."
)
STALE_FORM_MESSAGE = _l("This form is incomplete or out of date: reload the page and try again.")

# The part of the page each form belongs to: a refused form is shown there, opened, first.
FORM_PARTS = {
    "referral": "referral", "screening": "screening", "goal": "co_design", "action": "co_design",
    "commitment": "co_design", "goal_status": "co_design", "action_status": "co_design", "remove": "co_design",
    "revision": "signature", "signature": "signature", "contact": "follow_up", "outcome": "outcome",
}

# The parts of the page: their names in the navigation and their anchors (kept from the
# one-column page, so old links still land on their part).
PART_LABELS = {
    "referral": _l("Referral"), "screening": _l("Screening"), "co_design": _l("Co-design"),
    "signature": _l("Signature"), "follow_up": _l("Follow-up contacts"), "outcome": _l("Outcome"),
    "timeline": _l("Timeline"), "journal": _l("Journal"), "equipe": _l("Équipe"), "documents": _l("Documents"),
    "workflow": _l("Workflow"), "services": _l("Services"),
}
PART_ANCHORS = {part: part.replace("_", "-") for part in PART_LABELS}
DEADLINE_STATES = {"late": _l("Late"), "today": _l("Due today"), "due_soon": _l("Due soon"),
                   "on_time": _l("On time")}


# Italian agrees with the person: "la beneficiaria", "il beneficiario" (the form's own neutral
# words, "la persona beneficiaria", stay for a person whose gender is not female or male).
CONSENT_LABELS = {
    Gender.FEMALE: _l("She gave consent to the processing of her personal data, as described in the pact"),
    Gender.MALE: _l("He gave consent to the processing of his personal data, as described in the pact"),
}
CONSENT_REQUIRED = {
    Gender.FEMALE: _l("Her consent to data processing is required."),
    Gender.MALE: _l("His consent to data processing is required."),
}


def _agreeing(form: forms.SignatureForm, person: Beneficiary) -> forms.SignatureForm:
    """The signature form speaking of the person as she or he is."""
    if person.gender in CONSENT_LABELS:
        form.consent_given.label.text = CONSENT_LABELS[person.gender]
        form.consent_given.validators = [DataRequired(message=CONSENT_REQUIRED[person.gender])]
    return form


def local_path(target: str | None) -> str | None:
    """`target` when it is a path of this site ("/", "/pacts/3#follow-up"), else None: a `next`
    field must never send the person to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


def _locale() -> str:
    return str(get_locale())


def _today() -> date:
    return context.now().astimezone(context.settings().zone).date()


def _goal_choices(pact: Pact) -> list[Choice]:
    return [Choice(str(goal.id), textwrap.shorten(goal.description, 80, placeholder="…")) for goal in pact.goals]


def _fresh_forms(page: PactPage, pact: Pact) -> dict[str, Any]:
    """Every form of the page as a fresh visit shows it, pre-filled with what is recorded."""
    version = pact.version
    referral = pact.referral
    referral_data = (
        {"source": referral.source.value, "reason": referral.reason, "referrer_name": referral.referrer_name,
         "referrer_contact": referral.referrer_contact, "referred_on": referral.referred_on}
        if referral else {"referred_on": _today()}
    )
    latest = page.screening.latest
    outcome = pact.outcome
    outcome_data = (
        {"outcome": outcome.outcome, "goals_achieved": outcome.goals_achieved.value, "notes": outcome.notes}
        if outcome else {}
    )
    local_now = context.now().astimezone(context.settings().zone).replace(tzinfo=None, second=0, microsecond=0)
    return {
        "referral": forms.referral_form(version=version, **referral_data),
        "screening": forms.screening_form(page.screening.sections, latest.answers if latest else None,
                                          version=version) if page.screening.defined else None,
        "goal": forms.goal_form(page.co_design.need_areas, version=version),
        "action": forms.action_form(_goal_choices(pact), version=version),
        "commitment": forms.commitment_form(version=version),
        "signature": _agreeing(forms.signature_form(version=version, signed_on=_today(),
                                                    signed_by=pact.beneficiary.full_name), pact.beneficiary),
        "contact": forms.contact_form(version=version, contact_at=local_now),
        "outcome": forms.outcome_form(page.outcome.options, version=version, **outcome_data),
    }


def _beneficiary_url(pact: Pact) -> str | None:
    # The beneficiary pages are another part of the application; link only when they exist.
    if "beneficiaries.show" not in current_app.view_functions:
        return None
    return url_for("beneficiaries.show", beneficiary_id=pact.beneficiary_id)


def _render(
    pact: Pact, *, status: int = 200, bound: dict[str, Any] | None = None,
    form_alerts: dict[str, list[str]] | None = None, alerts: list[str] | None = None,
    open_part: str | None = None,
) -> tuple[str, int]:
    """The page with the submitted form (if any) in place of its fresh copy: drawn for this
    request only, never kept, since it carries what was typed. Logs the viewing."""
    part, _holds_until = _draw(pact, bound=bound, form_alerts=form_alerts, alerts=alerts, open_part=open_part)
    return _shown(pact.id, part), status


def _shown(pact_id: int, part: KeptPart) -> str:
    # Drawn first, logged after, both in one transaction: the page around the part reads too (the
    # header's count), and reading after the commit would open a second transaction. Nothing is
    # sent before the viewing is committed to the log.
    html = render_template("pacts/show.html", part=part)
    covered = part.facts.get("covered")
    log_access(context.db(), context.actor(), "view", "pact", pact_id, now=context.now(), ip_address=context.client_ip(),
               covered=list(covered) if covered is not None else None)
    saving.commit()
    return html


def _draw(
    pact: Pact, *, bound: dict[str, Any] | None = None, form_alerts: dict[str, list[str]] | None = None,
    alerts: list[str] | None = None, open_part: str | None = None,
) -> tuple[KeptPart, datetime]:
    db = context.db()
    zone = context.settings().zone
    page = pact_page(db, context.registry(), context.actor(), pact, now=context.now(), locale=_locale(), zone=zone)
    page_forms = _fresh_forms(page, pact)
    form_alerts = dict(form_alerts or {})
    # Forms without a panel of their own (a status button, "remove") speak at the top of the page.
    alerts = list(alerts or [])
    for name in [name for name in form_alerts if name not in page_forms]:
        alerts.extend(message for message in form_alerts.pop(name) if message not in alerts)
    for name, form in (bound or {}).items():
        if name in page_forms:
            page_forms[name] = form
        else:
            alerts.extend(str(error) for field in form if field.name != "version" for error in field.errors)
    parts = page.parts
    if open_part in parts:  # the refused form's part comes first, opened
        parts = (open_part, *(part for part in parts if part != open_part))
    html = render_template(
        "pacts/_workspace.html", page=page, pact=pact, forms=page_forms, labels=forms.code_labels(),
        form_alerts=form_alerts, alerts=alerts, beneficiary_url=_beneficiary_url(pact),
        parts=parts, open_part=open_part, part_labels=PART_LABELS, part_anchors=PART_ANCHORS,
        deadline_states=DEADLINE_STATES, back=url_for("pacts.show", pact_id=pact.id),
        services=services_part(pact), restriction=restriction_notice(pact.beneficiary_id),
    )
    title = _("Pact of %(name)s", name=page.header.beneficiary_name)
    # Whose cover the viewer sees the pact through: a cover's change moves the data version, and
    # covers start and end with the day, so each viewing logged from the kept part names them right.
    covered = tuple(covered_colleagues(db, context.actor(), subject_type="pact", subject_id=pact.id,
                                       now=context.now()))
    return KeptPart(Markup(html), title, {"covered": covered}), end_of_today()


_PARTS: FigureCache[KeptPart] = FigureCache(size=256)


@blueprint.get("/pacts/<int:pact_id>")
@login_required
def show(pact_id: int):
    open_part = request.args.get("part")
    if open_part not in PART_LABELS:
        open_part = None
    part = kept_part(_PARTS, ("pact", pact_id, open_part), lambda: _draw(
        context.visible_pact(pact_id, options=PAGE_LOADS), open_part=open_part))
    return _shown(pact_id, part)


def _attach_errors(form: Any, errors: dict[str, str], field_names: dict[str, str] | None = None) -> list[str]:
    """Put the core's errors next to their fields; returns those that belong to no field."""
    general = []
    for field, code in errors.items():
        name = (field_names or {}).get(field, field)
        if name in form and name != "version":
            form[name].errors = [*form[name].errors, forms.error_message(code)]
        else:
            general.append(forms.error_message(code))
    return general


def _save(
    pact: Pact, name: str, form: Any, write: Callable[[int], object], *, success: str, anchor: str,
    field_names: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Validate `form`, run `write(version read)` (one core operation), commit, or re-render the form."""
    part = FORM_PARTS.get(name)
    if not form.validate():
        alerts = [str(STALE_FORM_MESSAGE)] if form.version.errors else []
        return _render(pact, status=422, bound={name: form}, form_alerts={name: alerts}, open_part=part)

    def conflict(error: Conflict) -> tuple[str, int]:
        form.keep_input_at(pact.version)
        return _render(pact, bound={name: form}, form_alerts={name: [str(CONFLICT_MESSAGE)]},
                       alerts=[str(CONFLICT_MESSAGE)], open_part=part)

    def invalid(error: InvalidInput) -> tuple[str, int]:
        return _render(pact, bound={name: form}, form_alerts={name: _attach_errors(form, error.errors, field_names)},
                       open_part=part)

    def done(saved: object) -> Response:
        flash(success, "success")
        return redirect(url_for("pacts.show", pact_id=pact.id, _anchor=anchor))

    return saving.save(lambda: write(form.version.data), done=done, conflict=conflict, invalid=invalid)


@blueprint.post("/pacts/<int:pact_id>/referral")
@login_required
def referral(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = forms.referral_form(request.form)
    return _save(pact, "referral", form, lambda version: ops.record_referral(
        context.db(), pact, source=ReferralSource(form.source.data), reason=form.reason.data,
        referred_on=form.referred_on.data, referrer_name=form.referrer_name.data or "",
        referrer_contact=form.referrer_contact.data or "", actor=context.actor(), clock=context.clock(),
        expected_version=version,
    ), success=_("Referral saved."), anchor="referral")


@blueprint.post("/pacts/<int:pact_id>/screening")
@login_required
def screening(pact_id: int):
    pact = context.visible_pact(pact_id)
    questionnaire = context.registry().engine_for(pact).definition.questionnaire
    if questionnaire is None:
        abort(404)
    sections = questionnaire_sections(questionnaire, _locale())
    form = forms.screening_form(sections, None, request.form)
    field_names = {q.id: forms.question_field_name(q.id) for s in sections for q in s.questions}
    return _save(pact, "screening", form, lambda version: ops.record_screening(
        context.db(), context.registry(), pact, forms.screening_answers(form, sections), actor=context.actor(),
        clock=context.clock(), expected_version=version,
    ), success=_("Screening saved."), anchor="screening", field_names=field_names)


@blueprint.post("/pacts/<int:pact_id>/goals")
@login_required
def add_goal(pact_id: int):
    pact = context.visible_pact(pact_id)
    questionnaire = context.registry().engine_for(pact).definition.questionnaire
    form = forms.goal_form(need_area_choices(questionnaire, _locale()), request.form)
    return _save(pact, "goal", form, lambda version: ops.add_goal(
        context.db(), pact, description=form.description.data, need_area=form.need_area.data or "",
        target_date=form.target_date.data, clock=context.clock(), expected_version=version,
    ), success=_("Goal added."), anchor="co-design")


@blueprint.post("/pacts/<int:pact_id>/actions")
@login_required
def add_action(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = forms.action_form(_goal_choices(pact), request.form)
    goals = {str(goal.id): goal for goal in pact.goals}
    return _save(pact, "action", form, lambda version: ops.add_action(
        context.db(), pact, description=form.description.data, performer=Performer(form.performer.data),
        performer_detail=form.performer_detail.data or "", due_on=form.due_on.data,
        goal=goals.get(form.goal.data or ""), clock=context.clock(), expected_version=version,
    ), success=_("Action added."), anchor="co-design")


@blueprint.post("/pacts/<int:pact_id>/commitments")
@login_required
def add_commitment(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = forms.commitment_form(request.form)
    return _save(pact, "commitment", form, lambda version: ops.add_commitment(
        context.db(), pact, party=Performer(form.party.data), text=form.text.data, clock=context.clock(),
        expected_version=version,
    ), success=_("Commitment added."), anchor="co-design")


def _item(items: list, item_id: int) -> Any:
    found = next((item for item in items if item.id == item_id), None)
    if found is None:
        abort(404)
    return found


@blueprint.post("/pacts/<int:pact_id>/goals/<int:goal_id>/status")
@login_required
def goal_status(pact_id: int, goal_id: int):
    pact = context.visible_pact(pact_id)
    goal = _item(pact.goals, goal_id)
    form = forms.GoalStatusForm(request.form)
    return _save(pact, "goal_status", form, lambda version: ops.set_goal_status(
        context.db(), goal, ItemStatus(form.status.data), clock=context.clock(), expected_version=version,
    ), success=_("Goal status saved."), anchor=f"goal-{goal_id}")


@blueprint.post("/pacts/<int:pact_id>/actions/<int:action_id>/status")
@login_required
def action_status(pact_id: int, action_id: int):
    pact = context.visible_pact(pact_id)
    action = _item(pact.actions, action_id)
    form = forms.ActionStatusForm(request.form)
    return _save(pact, "action_status", form, lambda version: ops.set_action_status(
        context.db(), action, ActionStatus(form.status.data), clock=context.clock(), expected_version=version,
    ), success=_("Action status saved."), anchor=f"action-{action_id}")


@blueprint.post("/pacts/<int:pact_id>/goals/<int:goal_id>/remove")
@login_required
def remove_goal(pact_id: int, goal_id: int):
    pact = context.visible_pact(pact_id)
    goal = _item(pact.goals, goal_id)
    return _save(pact, "remove", forms.VersionForm(request.form), lambda version: ops.remove_goal(
        context.db(), goal, clock=context.clock(), expected_version=version,
    ), success=_("Goal removed."), anchor="co-design")


@blueprint.post("/pacts/<int:pact_id>/actions/<int:action_id>/remove")
@login_required
def remove_action(pact_id: int, action_id: int):
    pact = context.visible_pact(pact_id)
    action = _item(pact.actions, action_id)
    return _save(pact, "remove", forms.VersionForm(request.form), lambda version: ops.remove_action(
        context.db(), action, clock=context.clock(), expected_version=version,
    ), success=_("Action removed."), anchor="co-design")


@blueprint.post("/pacts/<int:pact_id>/commitments/<int:commitment_id>/remove")
@login_required
def remove_commitment(pact_id: int, commitment_id: int):
    pact = context.visible_pact(pact_id)
    commitment = _item(pact.commitments, commitment_id)
    return _save(pact, "remove", forms.VersionForm(request.form), lambda version: ops.remove_commitment(
        context.db(), commitment, clock=context.clock(), expected_version=version,
    ), success=_("Commitment removed."), anchor="co-design")


@blueprint.post("/pacts/<int:pact_id>/revision")
@login_required
def prepare_revision(pact_id: int):
    pact = context.visible_pact(pact_id)
    return _save(pact, "revision", forms.VersionForm(request.form), lambda version: ops.prepare_revision(
        context.db(), pact, actor=context.actor(), clock=context.clock(), expected_version=version,
    ), success=_("The pact is ready to print and sign."), anchor="signature")


@blueprint.post("/pacts/<int:pact_id>/signature")
@login_required
def signature(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = _agreeing(forms.signature_form(request.form), pact.beneficiary)
    return _save(pact, "signature", form, lambda version: ops.record_signature(
        context.db(), pact, signed_on=form.signed_on.data, signed_by=form.signed_by.data,
        consent_given=form.consent_given.data, actor=context.actor(), clock=context.clock(),
        expected_version=version, registry=context.registry(),
    ), success=_("Signature recorded."), anchor="signature")


@blueprint.post("/pacts/<int:pact_id>/contacts")
@login_required
def contact(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = forms.contact_form(request.form)
    zone = context.settings().zone

    def write(version: int) -> object:
        contact_at = form.contact_at.data.replace(tzinfo=zone).astimezone(timezone.utc)
        return ops.log_contact(
            context.db(), context.registry(), pact, contact_at=contact_at, channel=ContactChannel(form.channel.data),
            notes=form.notes.data or "", next_contact_on=form.next_contact_on.data, actor=context.actor(),
            clock=context.clock(), expected_version=version, submission_key=form.submission_key.data or None,
        )

    return _save(pact, "contact", form, write, success=_("Contact recorded."), anchor="follow-up")


@blueprint.post("/pacts/<int:pact_id>/outcome")
@login_required
def outcome(pact_id: int):
    pact = context.visible_pact(pact_id)
    definition = context.registry().engine_for(pact).definition
    form = forms.outcome_form(outcome_choices(definition, _locale()), request.form)
    return _save(pact, "outcome", form, lambda version: ops.record_outcome(
        context.db(), context.registry(), pact, outcome=form.outcome.data,
        goals_achieved=GoalsAchieved(form.goals_achieved.data), notes=form.notes.data or "",
        actor=context.actor(), clock=context.clock(), expected_version=version,
    ), success=_("Outcome saved."), anchor="outcome")


def _possible(pact: Pact, event_name: str) -> PossibleEvent | None:
    page_events = pact_page(context.db(), context.registry(), context.actor(), pact, now=context.now(),
                            locale=_locale(), zone=context.settings().zone).events
    return next((event for event in page_events if event.name == event_name), None)


def _move_page(
    pact: Pact, event: PossibleEvent, *, status: int = 200, move: forms.TransitionForm | None = None,
    alerts: list[str] | None = None, back: str | None = None,
) -> tuple[str, int]:
    """The form of one move on a page of its own: without JavaScript, and when a move is refused."""
    log_access(context.db(), context.actor(), "view", "pact", pact.id, now=context.now(),
               ip_address=context.client_ip(), detail=f"move: {event.name}")
    saving.commit()
    return render_template(
        "pacts/move.html", pact=pact, event=event, move=move, alerts=alerts or [],
        stage=stage_label(context.registry(), pact, _locale()),
        back=back or url_for("pacts.show", pact_id=pact.id),
    ), status


@blueprint.get("/pacts/<int:pact_id>/moves/<event_name>")
@login_required
def move_page(pact_id: int, event_name: str):
    pact = context.visible_pact(pact_id)
    event = _possible(pact, event_name)
    if event is None:
        abort(404)
    return _move_page(pact, event, back=local_path(request.args.get("next")))


def _refused_fields(form: forms.TransitionForm, refused: TransitionRefused) -> list[str]:
    """Put a missing comment or reason next to its field; returns the other messages."""
    others = []
    for guard in refused.unmet:
        name = getattr(guard, "name", "")
        target = form.comment if name == COMMENT_GUARD else form.reason if name == REASON_GUARD else None
        if target is not None:
            target.errors = [*target.errors, guard.message(_locale())]
        else:
            others.append(guard.message(_locale()))
    return others


@blueprint.post("/pacts/<int:pact_id>/transition")
@login_required
def transition(pact_id: int):
    pact = context.visible_pact(pact_id)
    engine_event = context.registry().engine_for(pact).event_definition(request.form.get("event", ""))
    form = forms.transition_form(reason_choices(engine_event, _locale()) if engine_event else (), request.form)
    back = local_path(request.form.get("next"))
    event = _possible(pact, form.event.data or "")
    if event is None:
        # Not a move of the current stage (any more): the pact page says where it stands.
        return _render(pact, status=422, alerts=[_("This move is not possible at the pact's current stage.")])
    if not form.validate():
        stale = form.version.errors or form.event.errors
        return _move_page(pact, event, status=422, move=form, back=back,
                          alerts=[str(STALE_FORM_MESSAGE)] if stale else [])

    def conflict(error: Conflict) -> tuple[str, int]:
        form.keep_input_at(pact.version)
        return _move_page(pact, event, status=409, move=form, back=back, alerts=[str(CONFLICT_MESSAGE)])

    def done(saved: object) -> Response:
        flash(_("The pact of %(name)s is now at the stage: %(stage)s.", name=pact.beneficiary.full_name,
                stage=stage_label(context.registry(), pact, _locale())), "success")
        return redirect(back or url_for("pacts.show", pact_id=pact.id))

    return saving.save(
        lambda: ops.transition_pact(
            context.db(), context.registry(), pact, form.event.data, actor=context.actor(), clock=context.clock(),
            expected_version=form.version.data, comment=form.comment.data or "", reason=form.reason.data or None,
        ),
        done=done, conflict=conflict,
        invalid=lambda error: _move_page(pact, event, status=422, move=form, back=back,
                                         alerts=_attach_errors(form, error.errors)),
        refused={
            TransitionRefused: lambda refused: _move_page(pact, event, status=422, move=form, back=back,
                                                          alerts=_refused_fields(form, refused)),
            EventNotAvailable: lambda error: _render(
                pact, status=422, alerts=[_("This move is not possible at the pact's current stage.")]),
        },
    )


@blueprint.get("/pacts/<int:pact_id>/print")
@login_required
def print_view(pact_id: int):
    pact = context.visible_pact(pact_id)
    sheet = print_page(context.registry(), pact, locale=_locale())
    if sheet is None:
        flash(_("Prepare the pact for signature before printing it."), "info")
        return redirect(url_for("pacts.show", pact_id=pact.id, _anchor="signature"))
    db = context.db()
    log_access(db, context.actor(), "print", "pact", pact.id, now=context.now(), ip_address=context.client_ip(),
               detail=f"revision {sheet.revision.number}")
    saving.commit()
    return render_template("pacts/print.html", sheet=sheet, pact=pact, labels=forms.code_labels())
