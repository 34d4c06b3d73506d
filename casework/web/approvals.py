"""The approvals queue: supervisors approve a co-designed pact or send it back."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("approvals", __name__)
