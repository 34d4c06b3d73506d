"""Caseload review for supervisors: managers' open pacts, flags, drill-down, reassignment."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("caseload", __name__)
