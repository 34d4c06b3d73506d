"""People: the list, registering, the person's page, correcting the record, opening a pact."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import Form

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache
from casework.i18n import C_
from casework.models import Beneficiary, Gender, Pact
from casework.people import ask_supervisors_about_registration
from casework.people import beneficiaries as people
from casework.people.erasure import may_erase_people
from casework.people.listing import DEADLINE_STATES, ListFilters, list_people
from casework.people.subject_access import may_copy_person_data
from casework.security import may_read_access_histories
from casework.models.labels import CONSENT_LEGAL_BASES
from casework.services import LANGUAGES, withdraw_person_consent
from casework.web import context, paging, saving
from casework.web.filters import lazy_labels, local_date, local_datetime, translated
from casework.web.form_limits import row_id, too_long_message
from casework.web.kept_parts import KeptPart, address_key, end_of_today, kept_part
from casework.web.people.forms import (
    GENDER_LABELS,
    RELATION_LABELS,
    BeneficiaryForm,
    HouseholdMemberForm,
    OpenPactForm,
    VersionedForm,
)
from casework.web.people.restriction import restriction_panel

blueprint = Blueprint("beneficiaries", __name__)

PER_PAGE = 25
MAX_FILTER_TEXT = 100
DEADLINE_CHOICES = [("late", _l("Late")), ("soon", _l("Due within 7 days"))]
DEADLINE_LABELS = {"late": _l("Late"), "soon": _l("Due soon"), "on_time": _l("On time")}
MEMBER_PREFIX = "member"
LANGUAGE_LABELS = lazy_labels(LANGUAGES)
LEGAL_BASIS_LABELS = lazy_labels(CONSENT_LEGAL_BASES)
CONSENT_ERRORS = {"already_withdrawn": _l("This consent was already withdrawn.")}
CONSENT_CONFLICT = _l("Someone else changed a referral to this organisation at the same moment. "
                      "The consent was not withdrawn: try again.")

ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "invalid_length": _l("A codice fiscale has 16 characters."),
    "invalid_checksum": _l("This codice fiscale is not valid: check for a mistyped character."),
    "invalid_format": _l("This is not a valid codice fiscale."),
    "birth_date_mismatch": _l("The codice fiscale does not match the birth date."),
    "gender_mismatch": _l("The codice fiscale does not match the gender."),
    "already_registered": _l("A person with this codice fiscale is already registered."),
    "in_future": _l("The birth date cannot be in the future."),
    "before_1900": _l("The birth date cannot be before 1900."),
    "invalid_email": _l("Write an e-mail address such as name@example.it."),
    "invalid_phone": _l("Write a phone number: digits, spaces and an optional leading +."),
    "not_a_comune": _l("Choose a comune from the list."),
    "unknown_language": _l("Choose a language from the list."),
    "outside_territory": _l("Choose a comune of your territory from the list."),
    "not_allowed": _l("You cannot open pacts in this programme."),
    "already_open": _l("This person already has an open pact in this programme."),
    "not_found": _l("This household member is no longer recorded."),
}
# Messages about the person agree with their recorded gender (Italian: "è stata registrata");
# for another gender the wording is neutral.
REGISTERED = {
    Gender.FEMALE: C_("female", "{name} is registered."),
    Gender.MALE: C_("male", "{name} is registered."),
    Gender.OTHER: C_("other gender", "{name} is registered."),
}
REGISTERED_ON = {
    Gender.FEMALE: C_("female", "Registered on {when}."),
    Gender.MALE: C_("male", "Registered on {when}."),
    Gender.OTHER: C_("other gender", "Registered on {when}."),
}
REGISTERED_ON_BY = {
    Gender.FEMALE: C_("female", "Registered on {when} by {who}."),
    Gender.MALE: C_("male", "Registered on {when} by {who}."),
    Gender.OTHER: C_("other gender", "Registered on {when} by {who}."),
}
NEEDS_SUPERVISOR = _l("This registration needs a supervisor: they have been notified and will get back to you.")
DUPLICATE_MESSAGES = {
    "codice_fiscale": _l("A person with the same codice fiscale already exists."),
    "name_and_birth_date": _l("A person with the same name and birth date already exists."),
}
FIELD_LABELS = {
    "first_name": _l("First name"), "last_name": _l("Last name"), "codice_fiscale": _l("Codice fiscale"),
    "gender": _l("Gender"), "birth_date": _l("Birth date"), "birth_place": _l("Place of birth"),
    "citizenship": _l("Citizenship"), "migrant_background": _l("Migrant background"),
    "comune": _l("Comune of residence"), "address": _l("Address"), "phone": _l("Phone"), "email": _l("E-mail"),
    "household": _l("Household member"), "preferred_language": _l("Preferred language"),
    "consent": _l("Consent to share data"),
}


@blueprint.before_request
def _only_people_managers():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not people.may_manage_people(context.actor()):
        abort(403)  # administrators manage accounts and see no case data
    return None


def _show_errors(form: Form, error: InvalidInput) -> None:
    """Each core error next to its field; an error without a field on the form is flashed."""
    for name, code in error.errors.items():
        message = ERROR_MESSAGES.get(code, _l("This value is not accepted."))
        if code == "too_long" and name in people.MAX_LENGTHS and name in form:
            message = too_long_message(people.MAX_LENGTHS[name], len((form[name].data or "").strip()))
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            flash(str(message), "error")


def _every_problem(form: BeneficiaryForm, *, kept_comune_id: int | None = None) -> None:
    """After the form could not read some fields (a date written wrong, say), the core still
    checks the ones it could: every wrong field is shown at once, not one per attempt."""
    problems = people.person_problems(
        context.db(), form.details(), today=context.clock().now.astimezone(context.clock().zone).date(),
        user=context.actor(), kept_comune_id=kept_comune_id,
    )
    _show_errors(form, InvalidInput({name: code for name, code in problems.items() if not form[name].errors}))


def _pact_links() -> bool:
    # The pact page is built alongside; until it exists, pacts are listed without links.
    return "pacts.show" in current_app.view_functions


def _labels() -> dict[str, Any]:
    return {"gender_labels": GENDER_LABELS, "relation_labels": RELATION_LABELS, "language_labels": LANGUAGE_LABELS,
            "legal_basis_labels": LEGAL_BASIS_LABELS}


@blueprint.get("/beneficiaries")
def index():
    return render_template("people/index.html", part=kept_part(_LISTS, address_key(), _draw_list))


_LISTS: FigureCache[KeptPart] = FigureCache(size=128)


def _draw_list() -> tuple[KeptPart, datetime]:
    args = request.args
    filters = ListFilters(
        text=" ".join(args.get("q", "").split())[:MAX_FILTER_TEXT], programme_id=_row_id(args.get("programme")),
        stage=args.get("stage", "").strip()[:MAX_FILTER_TEXT], deadline=args.get("deadline", "").strip(),
    )
    found = list_people(context.db(), context.registry(), context.actor(), filters, now=context.now(),
                        zone=context.settings().zone,
                        locale=str(get_locale()), page=paging.page_number(args), per_page=PER_PAGE)
    # What the pagination links carry, so moving between pages keeps the filters.
    kept = {"q": filters.text, "programme": filters.programme_id, "stage": filters.stage,
            "deadline": filters.deadline if filters.deadline in DEADLINE_STATES else ""}
    html = render_template("people/_index_main.html", found=found, filters=filters,
                           kept={name: value for name, value in kept.items() if value},
                           deadline_choices=DEADLINE_CHOICES, deadline_labels=DEADLINE_LABELS)
    return KeptPart(Markup(html)), end_of_today()


def _row_id(value: str | None) -> int | None:
    """A filter's id as typed in the address: anything that is no row id means no filter."""
    return row_id(value) or None


@blueprint.route("/beneficiaries/new", methods=["GET", "POST"])
def new():
    db = context.db()
    form = BeneficiaryForm().offer_comuni(people.comuni(db, context.actor()))

    def page(status: int = 200, duplicates: list[people.PossibleDuplicate] | None = None) -> tuple[str, int]:
        return render_template(
            "people/new.html", form=form, duplicate_messages=DUPLICATE_MESSAGES,
            duplicates=[duplicate for duplicate in duplicates or [] if duplicate.beneficiary_id is not None],
            needs_supervisor=NEEDS_SUPERVISOR if any(d.beneficiary_id is None for d in duplicates or []) else "",
            ask_confirmation=bool(duplicates) and status == 200,
        ), status

    if not form.validate_on_submit():
        if form.errors:
            _every_problem(form)
        return page(422 if form.errors else 200)

    def possible_duplicates(found: people.PossibleDuplicates) -> tuple[str, int]:
        if any(duplicate.beneficiary_id is None for duplicate in found.duplicates):
            # Someone this user may not see: say nothing of them, not even that they exist.
            ask_supervisors_about_registration(db, context.actor(), form.details(), now=context.now())
            saving.commit()
        if found.blocking:
            hidden = any(duplicate.beneficiary_id is None and duplicate.reason == "codice_fiscale"
                         for duplicate in found.duplicates)
            message = NEEDS_SUPERVISOR if hidden else ERROR_MESSAGES["already_registered"]
            form.codice_fiscale.errors = [*form.codice_fiscale.errors, message]
        return page(422 if found.blocking else 200, found.duplicates)

    def invalid(error: InvalidInput) -> tuple[str, int]:
        _show_errors(form, error)
        return page(422)

    def done(person: Beneficiary) -> Response:
        flash(translated(REGISTERED[person.gender], name=person.full_name), "success")
        return redirect(url_for("beneficiaries.show", beneficiary_id=person.id))

    return saving.save(lambda: people.create_beneficiary(
        db, context.actor(), form.details(), clock=context.clock(),
        confirm_duplicates=bool(form.confirm_duplicates.data),
    ), done=done, invalid=invalid, refused={people.PossibleDuplicates: possible_duplicates})


def _record_page(beneficiary_id: int, open_form: OpenPactForm | None = None, status: int = 200, *,
                 consent_errors: dict[int, str] | None = None):
    db = context.db()
    record = people.beneficiary_record(
        db, context.registry(), context.actor(), beneficiary_id, clock=context.clock(),
        locale=str(get_locale()), ip_address=context.client_ip(),
    )
    if record is None:
        abort(404)
    saving.commit()  # the access log entry
    if open_form is None:
        open_form = OpenPactForm(formdata=None)
    open_form.offer_programmes(record.programmes)
    # The person is visible to the reader here: their role alone says whether they read the access history.
    access_history_url = (url_for("access_history.show", beneficiary_id=beneficiary_id)
                          if may_read_access_histories(context.actor()) else None)
    copy_url = (url_for("subject_access.copy", beneficiary_id=beneficiary_id)
                if may_copy_person_data(context.actor()) else None)
    erase_url = (url_for("erasure.erase", beneficiary_id=beneficiary_id)
                 if may_erase_people(context.actor()) and record.beneficiary.erased_at is None else None)
    return render_template(
        "people/show.html", record=record, person=record.beneficiary, open_form=open_form,
        pact_links=_pact_links(), access_history_url=access_history_url, copy_url=copy_url, erase_url=erase_url,
        restriction=restriction_panel(record.beneficiary), consent_errors=consent_errors or {}, **_labels(),
    ), status


@blueprint.get("/beneficiaries/<int:beneficiary_id>")
def show(beneficiary_id: int):
    return _record_page(beneficiary_id)


@blueprint.post("/beneficiaries/<int:beneficiary_id>/pacts")
def open_pact(beneficiary_id: int):
    db, user, clock = context.db(), context.actor(), context.clock()
    person = people.open_visible_beneficiary(db, user, beneficiary_id, now=clock.now, ip_address=context.client_ip())
    if person is None:
        abort(404)
    programmes = people.programmes_open_to(db, user, clock=clock)
    form = OpenPactForm().offer_programmes(programmes)
    if not form.validate_on_submit() or form.programme_id.data is None:
        if not form.programme_id.errors:
            form.programme_id.errors = [*form.programme_id.errors, ERROR_MESSAGES["required"]]
        saving.roll_back()
        return _record_page(beneficiary_id, form, 422)
    programme = next(programme for programme in programmes if programme.id == form.programme_id.data)

    def invalid(error: InvalidInput) -> tuple[str, int]:
        _show_errors(form, error)
        return _record_page(beneficiary_id, form, 422)

    def done(pact: Pact) -> Response:
        flash(_("Pact opened in %(programme)s.", programme=programme.name), "success")
        if _pact_links():
            return redirect(url_for("pacts.show", pact_id=pact.id))
        return redirect(url_for("beneficiaries.show", beneficiary_id=beneficiary_id))

    return saving.save(lambda: people.open_pact_for(db, context.registry(), user, person, programme, clock),
                       done=done, invalid=invalid)


@blueprint.post("/beneficiaries/<int:beneficiary_id>/consents/<int:consent_id>/withdraw")
def withdraw_consent(beneficiary_id: int, consent_id: int):
    """The person withdrew a consent: recorded from their page (CSRF checked before the view);
    what depended on it stops (casework.services.referrals.withdraw_person_consent)."""

    def invalid(error: InvalidInput) -> tuple[str, int]:
        message = CONSENT_ERRORS.get(error.errors.get("consent", ""), _l("This value is not accepted."))
        return _record_page(beneficiary_id, status=422, consent_errors={consent_id: str(message)})

    def conflict(error: Exception) -> tuple[str, int]:
        return _record_page(beneficiary_id, status=409, consent_errors={consent_id: str(CONSENT_CONFLICT)})

    def done(consent) -> Response:
        if consent is None:  # not a person the user sees, or not their consent: nothing was written
            abort(404)
        flash(_("Consent to share data with %(organisation)s withdrawn.", organisation=consent.organisation.name),
              "success")
        return redirect(url_for("beneficiaries.show", beneficiary_id=beneficiary_id, _anchor="consents-title"))

    return saving.save(lambda: withdraw_person_consent(context.db(), context.actor(), beneficiary_id, consent_id,
                                                       now=context.now()),
                       done=done, invalid=invalid, conflict=conflict)


def _visible_or_404(beneficiary_id: int, detail: str) -> Beneficiary:
    person = people.open_visible_beneficiary(
        context.db(), context.actor(), beneficiary_id, now=context.now(), ip_address=context.client_ip(),
        detail=detail,
    )
    if person is None:
        abort(404)
    return person


def _reread(beneficiary_id: int) -> Beneficiary:
    """After a refused change: drop whatever it left in the session and read the record again."""
    saving.roll_back()
    return _visible_or_404(beneficiary_id, "edit")


def _fresh_person_form(person: Beneficiary) -> BeneficiaryForm:
    return BeneficiaryForm(formdata=None, data=BeneficiaryForm.values_of(person)).offer_comuni(
        people.comuni(context.db(), context.actor(), keep=person.comune_id))


def _fresh_member_form(person: Beneficiary) -> HouseholdMemberForm:
    return HouseholdMemberForm(formdata=None, prefix=MEMBER_PREFIX, data={"version": person.version})


def _edit_page(person: Beneficiary, *, person_form: BeneficiaryForm | None = None,
               member_form: HouseholdMemberForm | None = None, status: int = 200, conflict: bool = False):
    saving.commit()  # the access log entry
    return render_template(
        "people/edit.html", person=person,
        form=person_form or _fresh_person_form(person), member_form=member_form or _fresh_member_form(person),
        conflict=conflict, stored=_stored_values(person) if conflict else [], **_labels(),
    ), status


def _conflict(beneficiary_id: int, *, person_form: BeneficiaryForm | None = None,
              member_form: HouseholdMemberForm | None = None):
    """Someone saved first: keep what the user typed, show what is stored now, and let them
    send it again knowingly (the typed form now carries the current version)."""
    person = _reread(beneficiary_id)
    for typed in (person_form, member_form):
        if typed is not None:
            typed.version.data = str(person.version)
    flash(_("Someone else changed this person's record while you were working on it. Nothing was saved: "
            "check the current record and send your changes again."), "warning")
    return _edit_page(person, person_form=person_form, member_form=member_form, status=409,
                      conflict=person_form is not None)


@blueprint.route("/beneficiaries/<int:beneficiary_id>/edit", methods=["GET", "POST"])
def edit(beneficiary_id: int):
    db = context.db()
    person = _visible_or_404(beneficiary_id, "edit")
    if request.method == "GET":
        return _edit_page(person)
    form = BeneficiaryForm().offer_comuni(people.comuni(db, context.actor(), keep=person.comune_id))
    if not form.validate_on_submit():
        if form.errors:
            _every_problem(form, kept_comune_id=person.comune_id)
        return _edit_page(person, person_form=form, status=422)

    def invalid(error: InvalidInput) -> tuple[str, int]:
        _show_errors(form, error)
        return _edit_page(_reread(beneficiary_id), person_form=form)

    def done(changes: list) -> Response:
        flash(_("Changes saved.") if changes else _("Nothing was changed."), "success" if changes else "info")
        return redirect(url_for("beneficiaries.show", beneficiary_id=beneficiary_id))

    return saving.save(lambda: people.update_beneficiary(
        db, context.actor(), person, form.details(), expected_version=form.read_version(), clock=context.clock(),
    ), done=done, conflict=lambda error: _conflict(beneficiary_id, person_form=form), invalid=invalid)


@blueprint.post("/beneficiaries/<int:beneficiary_id>/household")
def add_member(beneficiary_id: int):
    db = context.db()
    person = _visible_or_404(beneficiary_id, "edit")
    member_form = HouseholdMemberForm(prefix=MEMBER_PREFIX)
    if not member_form.validate_on_submit():
        return _edit_page(person, member_form=member_form, status=422)

    def invalid(error: InvalidInput) -> tuple[str, int]:
        _show_errors(member_form, error)
        return _edit_page(_reread(beneficiary_id), member_form=member_form)

    return saving.save(
        lambda: people.add_household_member(db, context.actor(), person, member_form.details(),
                                            expected_version=member_form.read_version(), clock=context.clock()),
        done=lambda saved: _household_saved(beneficiary_id, _("Household member added.")),
        conflict=lambda error: _conflict(beneficiary_id, member_form=member_form), invalid=invalid,
    )


def _household_saved(beneficiary_id: int, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("beneficiaries.edit", beneficiary_id=beneficiary_id, _anchor="household"))


@blueprint.post("/beneficiaries/<int:beneficiary_id>/household/<int:member_id>/remove")
def remove_member(beneficiary_id: int, member_id: int):
    db = context.db()
    person = _visible_or_404(beneficiary_id, "edit")
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)

    def not_found(error: InvalidInput) -> Response:
        abort(404)

    return saving.save(
        lambda: people.remove_household_member(db, context.actor(), person, member_id,
                                               expected_version=form.read_version(), clock=context.clock()),
        done=lambda saved: _household_saved(beneficiary_id, _("Household member removed.")),
        conflict=lambda error: _conflict(beneficiary_id), refused={InvalidInput: not_found},
    )


@blueprint.get("/beneficiaries/<int:beneficiary_id>/history")
def history(beneficiary_id: int):
    db = context.db()
    found = people.beneficiary_history(db, context.actor(), beneficiary_id, now=context.now(),
                                       ip_address=context.client_ip())
    if found is None:
        abort(404)
    saving.commit()  # the access log entry
    rows = [
        {"at": change.at, "actor": change.actor, "field": FIELD_LABELS.get(change.field, change.field),
         "old": _shown(change.field, change.old_value), "new": _shown(change.field, change.new_value)}
        for change in found.changes
    ]
    person = found.beneficiary
    when = local_datetime(found.created_at)
    registered = (translated(REGISTERED_ON_BY[person.gender], when=when, who=found.created_by) if found.created_by
                  else translated(REGISTERED_ON[person.gender], when=when))
    return render_template("people/history.html", found=found, person=person, rows=rows, registered=registered)


def _shown(field: str, value: str) -> str:
    """A stored history value as the reader expects it: dates dd/mm/yyyy, choices in words."""
    if not value:
        return ""
    if field == "birth_date":
        return local_date(date.fromisoformat(value))
    if field == "gender":
        return str(GENDER_LABELS.get(Gender(value), value))
    if field == "migrant_background":
        return _("Yes") if value == "True" else _("No")
    return value


def _stored_values(person: Beneficiary) -> list[tuple[str, str]]:
    """The record as saved now, shown beside the user's typed input after a conflict."""
    values = [
        (FIELD_LABELS["first_name"], person.first_name), (FIELD_LABELS["last_name"], person.last_name),
        (FIELD_LABELS["codice_fiscale"], person.codice_fiscale or ""),
        (FIELD_LABELS["gender"], str(GENDER_LABELS[person.gender])),
        (FIELD_LABELS["birth_date"], local_date(person.birth_date)),
        (FIELD_LABELS["birth_place"], person.birth_place), (FIELD_LABELS["citizenship"], person.citizenship),
        (FIELD_LABELS["migrant_background"], _("Yes") if person.migrant_background else _("No")),
        (FIELD_LABELS["comune"], person.comune.name if person.comune else ""),
        (FIELD_LABELS["address"], person.address), (FIELD_LABELS["phone"], person.phone),
        (FIELD_LABELS["email"], person.email),
    ]
    return [(str(label), value) for label, value in values]
