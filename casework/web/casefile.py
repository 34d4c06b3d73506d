"""Placeholder blueprint: filled in by the work on issue 3."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("casefile", __name__)
