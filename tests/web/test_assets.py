"""Our files and Bootstrap Italia's: fingerprinted addresses cached for a year, plain ones briefly."""

from __future__ import annotations

import re
from pathlib import Path

from casework.web.assets import (
    BOOTSTRAP_ITALIA,
    IMMUTABLE,
    SHORT_CACHE,
    STATIC,
    fingerprinted_name,
    plain_name,
)
from tests.web.conftest import sign_in, static_url

FINGERPRINTED_CSS = re.compile(r'href="(/static/casework\.[0-9a-f]{12}\.css)"')


def test_pages_name_assets_by_their_content_and_these_are_cached_for_a_year(app, client_and_people):
    client, _ = client_and_people
    sign_in(client, "giulia")
    page = client.get("/").get_data(as_text=True)
    ours = FINGERPRINTED_CSS.search(page)[1]
    bundle = static_url(app, "js/bootstrap-italia.bundle.min.js", "assets.bootstrap_italia")
    assert re.fullmatch(r"/assets/bootstrap-italia/js/bootstrap-italia\.bundle\.min\.[0-9a-f]{12}\.js", bundle)
    assert f'src="{bundle}"' in page
    for address, path in ((ours, STATIC / "casework.css"),
                          (bundle, BOOTSTRAP_ITALIA / "js" / "bootstrap-italia.bundle.min.js")):
        response = client.get(address)
        assert response.status_code == 200
        assert response.data == path.read_bytes()
        assert response.headers["Cache-Control"] == IMMUTABLE
        # Shared by every visitor: no cookie, no "Vary: Cookie", the usual security headers.
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_plain_and_outdated_addresses_still_answer_briefly_cached(client_and_people):
    client, _ = client_and_people
    for address in ("/static/casework.css", "/static/casework.0123456789ab.css",
                    "/assets/bootstrap-italia/css/bootstrap-italia.min.css"):
        response = client.get(address)
        assert response.status_code == 200, address
        assert response.headers["Cache-Control"] == SHORT_CACHE, address
    assert client.get("/static/casework.0123456789ab.css").data == (STATIC / "casework.css").read_bytes()
    for missing in ("/static/nessuno.0123456789ab.css", "/static/../config.py", "/assets/bootstrap-italia/../package.json"):
        assert client.get(missing).status_code == 404, missing


def test_our_stylesheets_name_the_fonts_by_their_fingerprinted_address(app, client_and_people):
    client, _ = client_and_people
    fonts_css = client.get(static_url(app, "fonts.css"))
    assert fonts_css.headers["Cache-Control"] == IMMUTABLE
    fonts = re.findall(r'url\("([^"]+)"\)', fonts_css.get_data(as_text=True))
    assert fonts and all(re.fullmatch(r"/assets/bootstrap-italia/fonts/.+\.[0-9a-f]{12}\.woff2", url) for url in fonts)
    font = client.get(fonts[0])
    assert font.status_code == 200 and font.headers["Cache-Control"] == IMMUTABLE
    # Asked again with its tag, it is not sent twice.
    again = client.get(static_url(app, "fonts.css"), headers={"If-None-Match": fonts_css.headers["ETag"]})
    assert again.status_code == 304


def test_a_changed_file_gets_a_new_address(tmp_path: Path):
    (tmp_path / "app.js").write_text("console.log(1);")
    first = fingerprinted_name(tmp_path, "app.js")
    (tmp_path / "app.js").write_text("console.log(2); // changed")
    second = fingerprinted_name(tmp_path, "app.js")
    assert re.fullmatch(r"app\.[0-9a-f]{12}\.js", first) and first != second
    assert plain_name(tmp_path, second) == "app.js"
    # A file whose own name looks fingerprinted is itself, and a file that is not there keeps its name.
    (tmp_path / "vendor.0123456789ab.js").write_text("x")
    assert plain_name(tmp_path, "vendor.0123456789ab.js") == "vendor.0123456789ab.js"
    assert fingerprinted_name(tmp_path, "missing.js") == "missing.js"


def test_the_pact_pdf_reads_fingerprinted_stylesheets_from_disk():
    from casework.web.pacts.pdf import BASE_URL, local_resource

    folders = {"/static/": STATIC, "/assets/bootstrap-italia/": BOOTSTRAP_ITALIA}
    address = f"{BASE_URL}static/{fingerprinted_name(STATIC, 'print.css')}"
    content, kind = local_resource(address, folders, {})
    assert kind == "text/css" and content == (STATIC / "print.css").read_bytes()
