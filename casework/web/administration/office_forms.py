"""The office identity form: the ente's name, the letterhead text and the logo."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from casework.administration import MAX_LOGO_BYTES

ACCEPTED_LOGOS = ".png,.jpg,.jpeg,.svg,image/png,image/jpeg,image/svg+xml"


class OfficeForm(FlaskForm):
    ente_name = StringField(_l("Name of the ente"))
    letterhead = TextAreaField(_l("Letterhead text"), render_kw={"rows": 4})
    logo = FileField(_l("Logo"), render_kw={"accept": ACCEPTED_LOGOS})
    remove_logo = BooleanField(_l("Remove the logo"))
    version = HiddenField()

    def read_logo(self) -> bytes | None:
        """The uploaded logo's bytes (at most one byte over the limit: enough to refuse it), or None."""
        upload = self.logo.data
        if upload is None or not getattr(upload, "filename", None) and not getattr(upload, "content_length", 0):
            return None
        data = upload.stream.read(MAX_LOGO_BYTES + 1)
        return data or None

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data) if self.version.data else None
        except ValueError:
            return -1  # tampered: a conflict, never a 500
