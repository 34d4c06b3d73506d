"""Programmes: the territorial manager creates and edits them."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("programmes", __name__)
