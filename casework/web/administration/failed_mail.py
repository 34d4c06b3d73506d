"""The administrator's pages: e-mail that could not be delivered."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from casework.models import Role
from casework.reminders import mail
from casework.web import context, saving
from casework.web.roles import role_required

blueprint = Blueprint("admin", __name__)

FAILED_LIMIT = 100


@blueprint.get("/admin/failed-mail")
@role_required(Role.ADMIN)
def failed_mail():
    emails = mail.failed_emails(context.db(), limit=FAILED_LIMIT)
    return render_template("administration/failed_mail.html", emails=emails, limit=FAILED_LIMIT)


@blueprint.post("/admin/failed-mail/<int:email_id>/retry")
@role_required(Role.ADMIN)
def retry(email_id: int):
    db = context.db()
    if mail.retry_email(db, email_id, now=context.now()):
        saving.commit()
        flash(_("The e-mail is back in the outbox: it will be sent again shortly."), "success")
    else:
        flash(_("This e-mail is no longer among the failed ones."), "warning")
    return redirect(url_for("admin.failed_mail"))
