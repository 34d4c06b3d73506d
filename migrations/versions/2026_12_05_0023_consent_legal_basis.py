"""consent legal basis: the GDPR basis on which a person's data go to an organisation (consent,
public task, legal obligation, vital interests); the rows recorded before were all the person's
consent

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
BASES = ('consent', 'public_task', 'legal_obligation', 'vital_interests')


def upgrade() -> None:
    # A batch: on SQLite the CHECK of the allowed values needs the table rebuilt (nothing
    # references data_sharing_consent, and it has no triggers); on PostgreSQL plain ALTERs.
    with op.batch_alter_table('data_sharing_consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'legal_basis',
            sa.Enum(*BASES, name='consent_legal_basis', native_enum=False, create_constraint=True),
            server_default='consent', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('data_sharing_consent', schema=None) as batch_op:
        # The CHECK first: SQLite's rebuild would otherwise keep it, naming a column gone.
        batch_op.drop_constraint(op.f('ck_data_sharing_consent_consent_legal_basis'), type_='check')
        batch_op.drop_column('legal_basis')
