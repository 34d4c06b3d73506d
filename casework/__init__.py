"""Casework: case-management workflow engine for territorial welfare programmes."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
