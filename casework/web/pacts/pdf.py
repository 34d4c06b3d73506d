"""The pact for signature as a PDF file, made on the server from the print view with WeasyPrint.

The same page as the print view (templates/pacts/print.html), the same access rules (a pact
the user may not see answers 404) and an access-log entry like printing. WeasyPrint reads the
page's stylesheets, the Bootstrap Italia fonts and the office logo from disk and from the
database through `local_resource`: it never opens a network connection.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from casework.administration import office_logo
from casework.models import Pact
from casework.pacts.page import PrintPage, print_page
from casework.security.audit import log_access
from casework.web import context, saving
from casework.web.assets import BOOTSTRAP_ITALIA, plain_name
from casework.web.pacts import forms

blueprint = Blueprint("pact_pdf", __name__)

# The address the page is rendered at: only a name for WeasyPrint to resolve links against.
BASE_URL = "https://casework.invalid/"
PDF_TYPE = "application/pdf"
_TYPES = {".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
          ".svg": "image/svg+xml", ".png": "image/png"}
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")


def local_resource(url: str, folders: dict[str, Path], in_memory: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """(content, type) of one of the page's own files: from memory by path, else from the folder its
    URL prefix names. Anything else raises ValueError, so a PDF never waits on the network nor
    leaks what it prints."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != BASE_URL:
        raise ValueError(f"not one of Casework's own files: {url}")
    if parts.path in in_memory:
        return in_memory[parts.path]
    for prefix, folder in folders.items():
        if parts.path.startswith(prefix):
            root = folder.resolve()
            # The page names our files by their fingerprinted address (assets.py).
            found = (root / plain_name(folder, parts.path.removeprefix(prefix))).resolve()
            if found.is_relative_to(root) and found.is_file():
                return found.read_bytes(), _TYPES.get(found.suffix, "application/octet-stream")
    raise ValueError(f"no such file: {url}")


def pdf_from_html(html: str, *, folders: dict[str, Path], in_memory: dict[str, tuple[bytes, str]]) -> bytes:
    """An A4 PDF of `html` (its @page rules give the size), its resources read by `local_resource`."""
    # Imported here: WeasyPrint loads the Pango library as it is imported, and a server without
    # it should still run everything but this download.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalResources(URLFetcher):
        def fetch(self, url, headers=None):
            content, content_type = local_resource(url, folders, in_memory)
            return URLFetcherResponse(url, content, {"Content-Type": content_type})

    return HTML(string=html, base_url=BASE_URL, url_fetcher=LocalResources(), media_type="print").write_pdf()


def pdf_filename(pact: Pact, sheet: PrintPage) -> str:
    """patto-<surname>-<revision date>.pdf in lower-case ASCII: "D'Angelo" gives "d-angelo"."""
    surname = unicodedata.normalize("NFKD", pact.beneficiary.last_name).encode("ascii", "ignore").decode()
    word = _NOT_ASCII_WORD.sub("-", surname.lower()).strip("-") or "persona"
    day = sheet.revision.created_at.astimezone(context.settings().zone).date()
    return f"patto-{word}-{day.isoformat()}.pdf"


def _resources() -> dict[str, tuple[bytes, str]]:
    found = office_logo(context.db())
    return {url_for("office.logo"): found} if found is not None else {}


@blueprint.get("/pacts/<int:pact_id>/pact.pdf")
@login_required
def download(pact_id: int):
    pact = context.visible_pact(pact_id)
    sheet = print_page(context.registry(), pact, locale=str(get_locale()))
    if sheet is None:
        flash(_("Prepare the pact for signature before printing it."), "info")
        return redirect(url_for("pacts.show", pact_id=pact.id, _anchor="signature"))
    html = render_template("pacts/print.html", sheet=sheet, pact=pact, labels=forms.code_labels(), pdf=True)
    content = pdf_from_html(html, folders={
        url_for("static", filename=""): Path(current_app.static_folder or ""),
        url_for("assets.bootstrap_italia", filename=""): BOOTSTRAP_ITALIA,
    }, in_memory=_resources())
    db = context.db()
    log_access(db, context.actor(), "print", "pact", pact.id, now=context.now(), ip_address=context.client_ip(),
               detail=f"revision {sheet.revision.number} as PDF")
    saving.commit()
    response = Response(content, mimetype=PDF_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_filename(pact, sheet)}"'
    return response
