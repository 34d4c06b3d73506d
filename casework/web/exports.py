"""Downloads for supervisors and evaluators: CSV, XLSX and the pseudonymised dataset."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("exports", __name__)
