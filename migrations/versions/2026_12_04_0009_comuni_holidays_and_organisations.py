"""comuni: province, cadastral code and own holidays; organisations can be deactivated

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('cadastral_code', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('patron_month', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('patron_day', sa.SmallInteger(), nullable=True))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        'closure_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('territory_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['territory_id'], ['territory.id'],
                                name=op.f('fk_closure_day_territory_id_territory'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_day')),
        sa.UniqueConstraint('territory_id', 'day', name=op.f('uq_closure_day_territory_id_day')),
    )
    op.create_index(op.f('ix_closure_day_territory_id'), 'closure_day', ['territory_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_closure_day_territory_id'), table_name='closure_day')
    op.drop_table('closure_day')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.drop_column('patron_day')
        batch_op.drop_column('patron_month')
        batch_op.drop_column('cadastral_code')
        batch_op.drop_column('province')
