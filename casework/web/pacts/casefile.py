"""The case file around a pact: timeline, journal, équipe, documents, workflow diagram.

The pact page includes the parts `casefile/_timeline.html`, `_journal.html`, `_equipe.html`,
`_documents.html` and `_workflow.html` (all of them: `_panels.html`), which get their data from
the template global `casefile_for(pact)`; the beneficiary page includes
`casefile/_beneficiary_documents.html` (global `beneficiary_documents_for(beneficiary)`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from casework.errors import Conflict, InvalidInput
from casework.models import (
    ApprovalDecision,
    Beneficiary,
    ContactChannel,
    Document,
    DocumentKind,
    Gender,
    JournalKind,
    Pact,
    Performer,
    Priority,
    ReferralSource,
    ServiceReferralStatus,
    User,
)
from casework.models.labels import (
    CONTACT_CHANNELS,
    GENDERS,
    PERFORMERS,
    PRIORITIES,
    REFERRAL_SOURCES,
    SERVICE_DROP_REASONS,
    SERVICE_REFERRAL_STATUSES,
    SERVICE_REFUSAL_REASONS,
)
from casework.pacts import casefile, documents
from casework.pacts.diagram import DiagramText, main_path, workflow_svg
from casework.pacts.operations import OPEN_EVENT
from casework.security.access import (
    can_see_beneficiary,
    can_see_pact,
    get_visible_beneficiary,
)
from casework.security.audit import log_access
from casework.web import context, saving
from casework.web.filters import in_sentence, local_date, translated
from casework.web.pacts.casefile_forms import (
    DOCUMENT_KINDS,
    JOURNAL_KINDS,
    ColleagueForm,
    DocumentForm,
    ExternalMemberForm,
    JournalForm,
    RemoveMemberForm,
    colleague_form,
    document_form,
    external_member_form,
    journal_form,
    remove_member_form,
)
from casework.workflow import IMPORT_EVENT

blueprint = Blueprint("casefile", __name__)
TIMELINE_PAGE = 100  # entries per page of the full timeline

FIELD_ERRORS = {
    ("text", "required"): _l("Write what happened."),
    ("text", "too_long"): _l("The text is too long: at most 10,000 characters."),
    ("at", "in_future"): _l("The date and time cannot be in the future."),
    ("user", "required"): _l("Choose a colleague."),
    ("user", "not_eligible"): _l("Only active colleagues of the programme's territory can join the équipe."),
    ("user", "already_member"): _l("This colleague is already in the équipe."),
    ("user", "is_case_manager"): _l("The case manager already follows this pact."),
    ("role", "required"): _l("Write the role in the équipe."),
    ("external_name", "required"): _l("Write the name."),
    ("member", "not_in_pact"): _l("This person is no longer in the équipe."),
    ("file", "type_not_allowed"): _l("Only PDF, JPEG and PNG files can be uploaded."),
    ("file", "content_mismatch"): _l(
        "The content of the file does not match its extension: only real PDF, JPEG and PNG files can be uploaded."
    ),
    ("file", "empty"): _l("The file is empty."),
    ("file", "too_large"): _l("The file is larger than the upload limit."),
}
# Core field names that a form shows under another name.
FORM_FIELDS = {"external_name": "name"}
CONFLICT_MESSAGE = _l(
    "Someone else changed this pact while you were working on it. Nothing was saved: "
    "check the pact below and submit again."
)

EDITED_FIELDS = {
    "referral_source": _l("referral source"),
    "referral_reason": _l("reason for the referral"),
    "referral_referred_on": _l("date of the referral"),
    "referral_referrer_name": _l("referrer"),
    "referral_referrer_contact": _l("referrer's contact"),
    "case_manager": _l("case manager"),
    "case_manager_id": _l("case manager"),
    "priority": _l("priority"),
    "reminder_snoozed_until_date": _l("reminder put off until"),
    "reminder_snooze_reason": _l("reason for putting off the reminder"),
    "programme": _l("programme"),
    "first_name": _l("first name"),
    "last_name": _l("last name"),
    "codice_fiscale": _l("codice fiscale"),
    "birth_date": _l("date of birth"),
    "birth_place": _l("place of birth"),
    "gender": _l("gender"),
    "migrant_background": _l("migrant background"),
    "citizenship": _l("citizenship"),
    "comune": _l("comune"),
    "comune_id": _l("comune"),
    "address": _l("address"),
    "phone": _l("phone"),
    "email": _l("e-mail"),
    "household": _l("household"),
    "goal_description": _l("description of a goal"),
    "goal_need_area": _l("need area of a goal"),
    "goal_target_date": _l("target date of a goal"),
    "action_description": _l("description of an action"),
    "action_performer": _l("who does an action"),
    "action_performer_detail": _l("service or person doing an action"),
    "action_due_on": _l("due date of an action"),
    "action_goal": _l("goal an action serves"),
}


# --- What the templates loop over ------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    title: str
    details: list[str]
    actor: str
    link_url: str = ""
    link_text: str = ""


@dataclass(frozen=True)
class MemberRow:
    name: str
    role: str
    organisation: str
    contact: str
    is_colleague: bool
    remove_form: RemoveMemberForm | None


@dataclass(frozen=True)
class DocumentRow:
    kind: str
    name: str
    size: str
    uploaded_at: datetime
    uploaded_by: str
    url: str


@dataclass(frozen=True)
class CaseFilePanels:
    pact_id: int
    timeline: list[TimelineRow]
    has_more: bool
    timeline_total: int
    timeline_url: str
    journal_form: JournalForm
    journal_url: str
    members: list[MemberRow]
    may_manage_equipe: bool
    colleague_form: ColleagueForm | None  # None: nobody left to add
    colleague_url: str
    external_form: ExternalMemberForm
    external_url: str
    remove_url: str
    documents: list[DocumentRow]
    document_form: DocumentForm
    upload_url: str
    diagram: Markup
    diagram_url: str


@dataclass(frozen=True)
class BeneficiaryDocuments:
    beneficiary_id: int
    documents: list[DocumentRow]
    document_form: DocumentForm
    upload_url: str


# --- Helpers --------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale())


def _visible_beneficiary(beneficiary_id: int) -> Beneficiary:
    beneficiary = get_visible_beneficiary(context.db(), context.actor(), beneficiary_id)
    if beneficiary is None:
        abort(404)
    return beneficiary


def _log(action: str, subject_type: str, subject_id: int, detail: str = "") -> None:
    log_access(context.db(), context.actor(), action, subject_type, subject_id, now=context.now(),
               ip_address=context.client_ip(), detail=detail)


def _pact_url(pact_id: int, anchor: str) -> str:
    """The pact page at the panel just used; the full timeline while the pact page is missing."""
    try:
        return url_for("pacts.show", pact_id=pact_id, _anchor=anchor)
    except BuildError:
        return url_for("casefile.timeline_page", pact_id=pact_id)


def _beneficiary_url(beneficiary_id: int) -> str:
    try:
        return url_for("beneficiaries.show", beneficiary_id=beneficiary_id, _anchor="documents")
    except BuildError:
        return url_for("casefile.beneficiary_documents", beneficiary_id=beneficiary_id)


def _show_errors(form: Any, error: InvalidInput) -> None:
    for field_name, code in error.errors.items():
        message = FIELD_ERRORS.get((field_name, code), _l("This value is not accepted."))
        name = FORM_FIELDS.get(field_name, field_name)
        if name in form:
            form[name].errors = [*form[name].errors, str(message)]
        else:
            form.form_errors.append(str(message))


def _local_now() -> datetime:
    return context.now().astimezone(context.settings().zone).replace(second=0, microsecond=0, tzinfo=None)


def _storage() -> Path:
    return documents.documents_dir(context.settings().instance_dir)


def _size(size_bytes: int) -> str:
    if size_bytes < 1024 * 1024:
        return _("%(size)s KB", size=max(1, round(size_bytes / 1024)))
    return _("%(size)s MB", size=format_decimal(size_bytes / (1024 * 1024), format="#,##0.0"))


def _document_rows(rows: list[Document]) -> list[DocumentRow]:
    return [
        DocumentRow(
            kind=str(DOCUMENT_KINDS[d.kind]), name=d.original_name, size=_size(d.size_bytes), uploaded_at=d.uploaded_at,
            uploaded_by=d.uploaded_by.full_name if d.uploaded_by else "",
            url=url_for("casefile.download_document", document_id=d.id),
        )
        for d in rows
    ]


def _automatic() -> str:
    return _("Casework (automatic)")


def _edit_row(entry: casefile.TimelineEntry) -> tuple[str, list[str]]:
    if entry.kind == casefile.EntryKind.PACT_EDIT and entry.code == casefile.EQUIPE_FIELD:
        if entry.new_value and not entry.old_value:
            return _("Added to the équipe: %(member)s", member=entry.new_value), []
        return _("Removed from the équipe: %(member)s", member=entry.old_value), []
    field_label = str(EDITED_FIELDS.get(entry.code, entry.code))
    if entry.kind == casefile.EntryKind.PACT_EDIT and entry.label:  # a goal or an action, by its words now
        title = _("Pact changed: %(field)s (%(item)s)", field=field_label, item=entry.label)
    elif entry.kind == casefile.EntryKind.PACT_EDIT:
        title = _("Pact changed: %(field)s", field=field_label)
    else:
        title = _("Personal data changed: %(field)s", field=field_label)
    details = [_("Before: %(value)s", value=_shown_value(entry.code, entry.old_value)),
               _("After: %(value)s", value=_shown_value(entry.code, entry.new_value))]
    return title, details


def _shown_value(field_name: str, value: str) -> str:
    """An edit-history value as a person reads it: dates as dd/mm/yyyy, codes by their label."""
    if not value:
        return "—"
    if field_name == "gender" and value in {g.value for g in Gender}:
        return translated(GENDERS[Gender(value)])
    if field_name == "priority" and value in {p.value for p in Priority}:
        return translated(PRIORITIES[Priority(value)])
    if value in ("True", "False"):
        return _("yes") if value == "True" else _("no")
    if field_name == "action_performer" and value in {p.value for p in Performer}:
        return translated(PERFORMERS[Performer(value)])
    if field_name.endswith(("_date", "_due_on")):
        try:
            return local_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _timeline_row(entry: casefile.TimelineEntry) -> TimelineRow:
    kind = casefile.EntryKind
    details: list[str] = []
    link_url = link_text = ""
    if entry.kind == kind.TRANSITION:
        if entry.code == OPEN_EVENT:
            title = _("Pact opened in the stage %(stage)s", stage=entry.to_label)
        elif entry.code == IMPORT_EVENT:
            title = _("Imported in the stage %(stage)s", stage=entry.to_label)
        else:
            title = entry.label or entry.code
            details.append(_("From %(source)s to %(target)s", source=entry.from_label, target=entry.to_label))
        details.append(entry.text)
    elif entry.kind == kind.REFERRAL:
        title = _("Referral recorded: %(source)s", source=translated(REFERRAL_SOURCES[ReferralSource(entry.code)]))
        details.append(entry.text)
    elif entry.kind == kind.SCREENING:
        title = _("Screening completed")
        details.append(_("Score %(score)s, priority %(priority)s", score=entry.number,
                         priority=translated(PRIORITIES[Priority(entry.code)])))
    elif entry.kind == kind.CONTACT:
        title = _("Follow-up contact (%(channel)s)", channel=in_sentence(CONTACT_CHANNELS[ContactChannel(entry.code)]))
        details.append(entry.text)
    elif entry.kind == kind.JOURNAL:
        title = _("Journal: %(kind)s", kind=JOURNAL_KINDS[JournalKind(entry.code)])
        details.append(entry.text)
    elif entry.kind in (kind.PACT_EDIT, kind.PERSON_EDIT):
        title, details = _edit_row(entry)
    elif entry.kind == kind.REVISION:
        if entry.signed_on is not None:
            title = _("Pact signed (revision %(number)s)", number=entry.number)
            details.append(_("Signed on %(date)s by %(names)s", date=local_date(entry.signed_on),
                             names=entry.text))
        else:
            title = _("Revision %(number)s prepared for signature", number=entry.number)
    elif entry.kind == kind.DOCUMENT:
        title = _("Document uploaded: %(kind)s", kind=DOCUMENT_KINDS[DocumentKind(entry.code)])
        link_url = url_for("casefile.download_document", document_id=entry.document_id)
        link_text = _("Download %(name)s", name=entry.text)
    elif entry.kind == kind.REASSIGNMENT:
        title = _("Case manager changed: from %(previous)s to %(new)s", previous=entry.from_label, new=entry.to_label)
        details.append(_("Reason: %(reason)s", reason=entry.text))
    elif entry.kind == kind.APPROVAL:
        if entry.code == ApprovalDecision.APPROVED.value:
            title = _("Pact approved (revision %(number)s)", number=entry.number)
        else:
            title = _("Pact sent back for changes (revision %(number)s)", number=entry.number)
        details.append(entry.text)
    elif entry.kind == kind.SERVICE_REFERRAL:
        title, details = _service_referral_row(entry)
    else:
        title = _("Outcome recorded: %(outcome)s", outcome=entry.label)
        details.append(entry.text)
    return TimelineRow(at=entry.at, title=title, details=[d for d in details if d], actor=entry.actor or _automatic(),
                       link_url=link_url, link_text=link_text)


def _service_referral_row(entry: casefile.TimelineEntry) -> tuple[str, list[str]]:
    """ "Invio a <servizio>: richiesto", with the reason and the note; a change of its details
    (contact, linked action, consent) keeps its status and says what changed in the note."""
    if entry.code == entry.old_value:
        return _("Referral to %(service)s updated", service=entry.label), [entry.text]
    status = in_sentence(SERVICE_REFERRAL_STATUSES[ServiceReferralStatus(entry.code)])
    reason = SERVICE_REFUSAL_REASONS.get(entry.new_value) or SERVICE_DROP_REASONS.get(entry.new_value)
    details = [_("Reason: %(reason)s", reason=translated(reason)) if reason else "", entry.text]
    return _("Referral to %(service)s: %(status)s", service=entry.label, status=status), details


def _diagram(pact: Pact, path: casefile.WorkflowPath) -> str:
    definition = context.registry().engine_for(pact).definition
    locale = _locale()

    def state(name: str) -> str:
        return definition.label_of("state", name, locale)

    sentences = [
        _("Stages in order: %(stages)s.", stages=" → ".join(state(s) for s in main_path(definition))),
        _("Current stage: %(stage)s.", stage=state(path.current)),
    ]
    passed = [state(s) for s in path.states if s != path.current and s in definition.states]
    if passed:
        sentences.append(_("Stages already passed: %(stages)s.", stages=", ".join(passed)))
    text = DiagramText(
        title=_("Workflow of the pact: %(workflow)s", workflow=definition.label_of("workflow", None, locale)),
        description=" ".join(sentences),
        current=_("Current stage"), visited=_("Stage already passed"), not_visited=_("Stage not reached"),
        move_made=_("Move made by this pact"), move_possible=_("Possible move"),
    )
    return workflow_svg(definition, locale=locale, text=text, current=path.current, visited=path.states,
                        moves=path.moves)


def _colleague_choices(users: list[User]) -> list[SelectChoice]:
    return [SelectChoice(str(user.id), f"{user.full_name} · {user.territory.name}") for user in users]


def _panels(pact: Pact, **forms: Any) -> CaseFilePanels:
    """The panels' data; `forms` carries the forms being re-shown with the person's input."""
    db, user = context.db(), context.actor()
    data = casefile.case_file(db, context.registry(), pact, user, locale=_locale())
    colleagues = forms.get("colleague") or colleague_form(formdata=None, data={"version": pact.version})
    colleagues.user.choices = _colleague_choices(data.colleagues)
    members = [
        MemberRow(
            name=member.user.full_name if member.user else member.external_name, role=member.role,
            organisation=member.organisation, contact=member.contact, is_colleague=member.user is not None,
            remove_form=remove_member_form(formdata=None, data={"member": member.id, "version": pact.version})
            if data.may_manage_equipe else None,
        )
        for member in data.members
    ]
    return CaseFilePanels(
        pact_id=pact.id,
        timeline=[_timeline_row(entry) for entry in data.timeline],
        has_more=data.has_more,
        timeline_total=data.timeline_total,
        timeline_url=url_for("casefile.timeline_page", pact_id=pact.id),
        journal_form=forms.get("journal") or journal_form(formdata=None, data={"at": _local_now()}),
        journal_url=url_for("casefile.add_journal_entry", pact_id=pact.id),
        members=members,
        may_manage_equipe=data.may_manage_equipe,
        colleague_form=colleagues if data.colleagues else None,
        colleague_url=url_for("casefile.add_member", pact_id=pact.id, kind="colleague"),
        external_form=forms.get("external") or external_member_form(formdata=None, data={"version": pact.version}),
        external_url=url_for("casefile.add_member", pact_id=pact.id, kind="external"),
        remove_url=url_for("casefile.remove_member", pact_id=pact.id),
        documents=_document_rows(data.documents),
        document_form=forms.get("document") or document_form(formdata=None),
        upload_url=url_for("casefile.upload_pact_document", pact_id=pact.id),
        diagram=Markup(_diagram(pact, data.path)),  # built with ElementTree: every text is escaped
        diagram_url=url_for("casefile.workflow_diagram", pact_id=pact.id),
    )


def _beneficiary_documents(beneficiary: Beneficiary, form: DocumentForm | None = None) -> BeneficiaryDocuments:
    return BeneficiaryDocuments(
        beneficiary_id=beneficiary.id,
        documents=_document_rows(documents.beneficiary_documents(context.db(), beneficiary)),
        document_form=form or document_form(formdata=None),
        upload_url=url_for("casefile.upload_beneficiary_document", beneficiary_id=beneficiary.id),
    )


@blueprint.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"casefile_for": casefile_for, "beneficiary_documents_for": beneficiary_documents_for}


def casefile_for(pact: Pact) -> CaseFilePanels | None:
    """The pact page's case-file panels; None when the signed-in person may not see the pact."""
    if not can_see_pact(context.db(), context.actor(), pact.id):
        return None
    return _panels(pact)


def beneficiary_documents_for(beneficiary: Beneficiary) -> BeneficiaryDocuments | None:
    if not can_see_beneficiary(context.db(), context.actor(), beneficiary.id):
        return None
    return _beneficiary_documents(beneficiary)


def _form_page(pact: Pact, panel: str, status: int, *, message: str = "", **forms: Any):
    """A form sent back with its errors (or a conflict), on a page of its own."""
    saving.roll_back()  # nothing half-done may ride along with the access-log commit
    _log("view", "pact", pact.id, detail=f"case file form: {panel}")
    saving.commit()
    return render_template(
        "pacts/casefile/form_page.html", pact=pact, panel=panel, casefile=_panels(pact, **forms), message=message,
        back_url=_pact_url(pact.id, panel),
    ), status


# --- Pages and actions ----------------------------------------------------------------


@blueprint.get("/pacts/<int:pact_id>/timeline")
@login_required
def timeline_page(pact_id: int):
    pact = context.visible_pact(pact_id)
    entries = casefile.timeline(context.db(), context.registry(), pact, locale=_locale())
    pages = max(1, -(-len(entries) // TIMELINE_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = entries[(page - 1) * TIMELINE_PAGE:page * TIMELINE_PAGE]
    _log("view", "pact", pact.id, detail="timeline")
    saving.commit()
    return render_template(
        "pacts/casefile/timeline.html", pact=pact, rows=[_timeline_row(e) for e in shown],
        back_url=_pact_url(pact.id, "timeline"), total=len(entries), page=page, pages=pages,
        first=(page - 1) * TIMELINE_PAGE + 1, last=(page - 1) * TIMELINE_PAGE + len(shown),
        previous_url=url_for("casefile.timeline_page", pact_id=pact.id, page=page - 1) if page > 1 else None,
        next_url=url_for("casefile.timeline_page", pact_id=pact.id, page=page + 1) if page < pages else None,
    )


@blueprint.post("/pacts/<int:pact_id>/journal")
@login_required
def add_journal_entry(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = journal_form()
    if not form.validate_on_submit():
        return _form_page(pact, "journal", 422, journal=form)
    at = form.at.data.replace(tzinfo=context.settings().zone)

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return _form_page(pact, "journal", 422, journal=form)

    def done(saved: object) -> Response:
        flash(_("Journal entry saved."), "success")
        return redirect(_pact_url(pact.id, "journal"))

    return saving.save(lambda: casefile.add_journal_entry(
        context.db(), pact, kind=JournalKind(form.kind.data), at=at, text=form.text.data, actor=context.actor(),
        now=context.now(), submission_key=form.submission_key.data or None,
    ), done=done, invalid=invalid)


@blueprint.post("/pacts/<int:pact_id>/equipe/colleagues", defaults={"kind": "colleague"})
@blueprint.post("/pacts/<int:pact_id>/equipe/contacts", defaults={"kind": "external"})
@login_required
def add_member(pact_id: int, kind: str):
    pact = context.visible_pact(pact_id)
    db = context.db()
    if not casefile.can_manage_equipe(context.actor(), pact):
        abort(403)
    form: ColleagueForm | ExternalMemberForm
    if kind == "colleague":
        form = colleague_form()
        form.user.choices = _colleague_choices(casefile.eligible_colleagues(db, pact))
    else:
        form = external_member_form()
    if not form.validate_on_submit():
        return _form_page(pact, "equipe", 422, **{kind: form})

    def write() -> object:
        if isinstance(form, ColleagueForm):
            return casefile.add_colleague(db, pact, db.get(User, form.user.data), form.role.data,
                                          actor=context.actor(), clock=context.clock(),
                                          expected_version=form.expected_version)
        return casefile.add_external_member(
            db, pact, name=form.name.data, role=form.role.data, organisation=form.organisation.data or "",
            contact=form.contact.data or "", actor=context.actor(), clock=context.clock(),
            expected_version=form.expected_version,
        )

    def conflict(error: Conflict):
        current = context.visible_pact(pact_id)
        form.version.data = str(current.version)
        return _form_page(current, "equipe", 409, message=str(CONFLICT_MESSAGE), **{kind: form})

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return _form_page(pact, "equipe", 422, **{kind: form})

    return saving.save(write, done=lambda saved: _equipe_updated(pact_id), conflict=conflict, invalid=invalid)


def _equipe_updated(pact_id: int) -> Response:
    flash(_("The équipe has been updated."), "success")
    return redirect(_pact_url(pact_id, "equipe"))


@blueprint.post("/pacts/<int:pact_id>/equipe/remove")
@login_required
def remove_member(pact_id: int):
    pact = context.visible_pact(pact_id)
    db = context.db()
    if not casefile.can_manage_equipe(context.actor(), pact):
        abort(403)
    form = remove_member_form()
    if not form.validate_on_submit() or form.member_id is None:
        abort(400)

    def no_longer_there(error: InvalidInput) -> Response:
        flash(_("This person is no longer in the équipe."), "warning")
        return redirect(_pact_url(pact_id, "equipe"))

    return saving.save(
        lambda: casefile.remove_member(db, pact, form.member_id, actor=context.actor(), clock=context.clock(),
                                       expected_version=form.expected_version),
        done=lambda saved: _equipe_updated(pact_id),
        conflict=lambda error: _form_page(context.visible_pact(pact_id), "equipe", 409, message=str(CONFLICT_MESSAGE)),
        refused={InvalidInput: no_longer_there},
    )


def _store_upload(form: DocumentForm, stored_url: str, refused: Callable[[], Any], **owner: Any) -> Any:
    """Store the uploaded file for `owner` (pact= or beneficiary=) and go to `stored_url`;
    otherwise answer `refused()`, the form showing its errors."""
    if not form.validate_on_submit():
        return refused()
    upload = form.file.data

    def invalid(error: InvalidInput) -> Any:
        _show_errors(form, error)
        return refused()

    def done(saved: object) -> Response:
        flash(_("Document uploaded."), "success")
        return redirect(stored_url)

    return saving.save(lambda: documents.store_document(
        context.db(), _storage(), upload.stream, file_name=upload.filename or "",
        kind=DocumentKind(form.kind.data), max_bytes=context.settings().max_upload_mb * 1024 * 1024,
        actor=context.actor(), now=context.now(), **owner,
    ), done=done, invalid=invalid)


@blueprint.post("/pacts/<int:pact_id>/documents")
@login_required
def upload_pact_document(pact_id: int):
    pact = context.visible_pact(pact_id)
    form = document_form()
    return _store_upload(form, _pact_url(pact.id, "documents"),
                         lambda: _form_page(pact, "documents", 422, document=form), pact=pact)


@blueprint.get("/beneficiaries/<int:beneficiary_id>/documents")
@login_required
def beneficiary_documents(beneficiary_id: int):
    beneficiary = _visible_beneficiary(beneficiary_id)
    _log("view", "beneficiary", beneficiary.id, detail="documents")
    saving.commit()
    return render_template("pacts/casefile/beneficiary_documents.html", beneficiary=beneficiary)


@blueprint.post("/beneficiaries/<int:beneficiary_id>/documents")
@login_required
def upload_beneficiary_document(beneficiary_id: int):
    beneficiary = _visible_beneficiary(beneficiary_id)
    form = document_form()

    def refused() -> tuple[str, int]:
        saving.roll_back()  # nothing half-done may ride along with the access-log commit
        _log("view", "beneficiary", beneficiary.id, detail="documents")
        saving.commit()
        return render_template("pacts/casefile/beneficiary_documents.html", beneficiary=beneficiary,
                               documents_data=_beneficiary_documents(beneficiary, form)), 422

    return _store_upload(form, _beneficiary_url(beneficiary.id), refused, beneficiary=beneficiary)


@blueprint.get("/documents/<int:document_id>")
@login_required
def download_document(document_id: int):
    db = context.db()
    document = documents.get_visible_document(db, context.actor(), document_id)
    if document is None:
        abort(404)
    try:
        stream = documents.open_document(_storage(), document)
    except documents.DocumentMissing:
        abort(404)
    owner = f"pact {document.pact_id}" if document.pact_id else f"beneficiary {document.beneficiary_id}"
    _log("download", "document", document.id, detail=f"{owner}: {document.original_name}")
    saving.commit()
    response = send_file(stream, mimetype=document.content_type, as_attachment=True,
                         download_name=documents.download_name(document), conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Opened in the browser by mistake, the file still runs nothing and loads nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blueprint.get("/pacts/<int:pact_id>/workflow.svg")
@login_required
def workflow_diagram(pact_id: int):
    pact = context.visible_pact(pact_id)
    svg = _diagram(pact, casefile.workflow_path(context.db(), pact))
    _log("view", "pact", pact.id, detail="workflow diagram")
    saving.commit()
    response = Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response
