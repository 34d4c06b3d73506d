"""beneficiary search keys: normalised names and phone, indexed for the header search

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 08:40:00
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KEYS = ('last_name_key', 'first_name_key', 'phone_key')


# Frozen copies of casework.models.beneficiary.name_key and phone_key as they were when this
# revision was written: a migration must build the same data whatever the models become.
def _name_key(text: str) -> str:
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(character for character in decomposed if character.isalnum()).casefold()[:100]


def _phone_key(text: str) -> str:
    compact = re.sub(r'[^0-9+]', '', text)
    return re.sub(r'\D', '', re.sub(r'^(\+|00)39', '', compact))[:40]


def upgrade() -> None:
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_name_key', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('first_name_key', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=40), server_default='', nullable=False))
    beneficiary = sa.table(
        'beneficiary', sa.column('id', sa.Integer), sa.column('first_name', sa.String),
        sa.column('last_name', sa.String), sa.column('phone', sa.String),
        *(sa.column(key, sa.String) for key in KEYS),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(beneficiary.c.id, beneficiary.c.first_name, beneficiary.c.last_name,
                                        beneficiary.c.phone)).all()
    for row in rows:
        connection.execute(beneficiary.update().where(beneficiary.c.id == row.id).values(
            last_name_key=_name_key(row.last_name or ''), first_name_key=_name_key(row.first_name or ''),
            phone_key=_phone_key(row.phone or ''),
        ))
    for key in KEYS:
        op.create_index(op.f(f'ix_beneficiary_{key}'), 'beneficiary', [key], unique=False)


def downgrade() -> None:
    for key in KEYS:
        op.drop_index(op.f(f'ix_beneficiary_{key}'), table_name='beneficiary')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        for key in reversed(KEYS):
            batch_op.drop_column(key)
