"""beneficiary preferred language: the ISO 639-1 code of the language a person prefers
('' for not known), which ranks the services that speak it first among the suggestions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column, not a batch rebuild: on SQLite the beneficiary table is referenced by pact,
    # whose triggers a rebuild would disturb.
    op.add_column('beneficiary', sa.Column('preferred_language', sa.String(length=8), server_default='',
                                           nullable=False))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), for the same reason: no rebuild of beneficiary.
    op.drop_column('beneficiary', 'preferred_language')
