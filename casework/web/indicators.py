"""Impact indicators per programme, territory and period, and the printable funder report."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("indicators", __name__)
