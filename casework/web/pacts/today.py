"""Oggi (Today): the case manager's starting page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import login_required

from casework.models import Role
from casework.pacts.today import search_beneficiaries, todays_work
from casework.web import context

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
@login_required
def today():
    if context.actor().role == Role.ADMIN:
        return redirect(url_for("admin.failed_mail"))  # an administrator sees no case data
    query = request.args.get("q", "").strip()
    locale = str(get_locale())
    work = todays_work(context.db(), context.actor(), context.registry(), now=context.now(), locale=locale)
    results = search_beneficiaries(context.db(), context.actor(), query) if query else None
    return render_template("pacts/today.html", work=work, query=query, results=results)
