"""service directory and service referrals: taxonomy, services, their comuni, languages and
search terms; referrals of pacts to services, their events and the consents to share data;
the territory's public board switch

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 11:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base
from casework.models.base import append_only_ddl


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_macro_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label_it', sa.String(length=120), nullable=False),
    sa.Column('label_en', sa.String(length=120), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_macro_area')),
    sa.UniqueConstraint('code', name=op.f('uq_service_macro_area_code'))
    )
    op.create_table('service_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('macro_area_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('label_it', sa.String(length=160), nullable=False),
    sa.Column('label_en', sa.String(length=160), nullable=False),
    sa.Column('need_area', sa.String(length=40), nullable=False),
    sa.Column('nomenclatore_code', sa.String(length=20), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['macro_area_id'], ['service_macro_area.id'], name=op.f('fk_service_type_macro_area_id_service_macro_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_type')),
    sa.UniqueConstraint('code', name=op.f('uq_service_type_code'))
    )
    with op.batch_alter_table('service_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_type_macro_area_id'), ['macro_area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_type_need_area'), ['need_area'], unique=False)

    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target_group', sa.Text(), nullable=False),
    sa.Column('eligibility', sa.Text(), nullable=False),
    sa.Column('access', sa.Enum('free_access', 'by_appointment', name='service_access', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=False),
    sa.Column('opening_notes', sa.String(length=300), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('cost', sa.Enum('free', 'discounted', 'paid', name='service_cost', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('cost_notes', sa.String(length=300), nullable=False),
    sa.Column('company_welfare_plan', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('places_available', sa.Integer(), nullable=True),
    sa.Column('waiting_list', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_checked_on', sa.Date(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 0', name=op.f('ck_service_capacity_not_negative')),
    sa.CheckConstraint('places_available IS NULL OR places_available >= 0', name=op.f('ck_service_places_not_negative')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_service_version_positive')),
    sa.CheckConstraint('waiting_list >= 0', name=op.f('ck_service_waiting_list_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['type_id'], ['service_type.id'], name=op.f('fk_service_type_id_service_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service'))
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index('ix_service_last_checked_on', ['last_checked_on'], unique=False)
        batch_op.create_index('ix_service_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_service_type_active', ['type_id', 'active'], unique=False)

    op.create_table('service_comune',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_comune_service_id_service'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_service_comune_territory_id_territory')),
    sa.PrimaryKeyConstraint('service_id', 'territory_id', name=op.f('pk_service_comune'))
    )
    with op.batch_alter_table('service_comune', schema=None) as batch_op:
        batch_op.create_index('ix_service_comune_territory_id', ['territory_id', 'service_id'], unique=False)

    op.create_table('service_language',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_language_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'language', name=op.f('pk_service_language'))
    )
    with op.batch_alter_table('service_language', schema=None) as batch_op:
        batch_op.create_index('ix_service_language_language', ['language', 'service_id'], unique=False)

    op.create_table('service_search_term',
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_search_term_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'service_id', name=op.f('pk_service_search_term'))
    )
    with op.batch_alter_table('service_search_term', schema=None) as batch_op:
        batch_op.create_index('ix_service_search_term_service_id', ['service_id'], unique=False)

    op.create_table('service_referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'requested', 'accepted', 'refused', 'started', 'completed', 'dropped', name='service_referral_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('need_area', sa.String(length=40), nullable=False),
    sa.Column('proposed_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('answered_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('refusal_reason', sa.String(length=40), nullable=False),
    sa.Column('agreed_start_on', sa.Date(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('drop_reason', sa.String(length=40), nullable=False),
    sa.Column('provider_contact', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status != 'dropped' OR drop_reason != ''", name=op.f('ck_service_referral_dropped_has_reason')),
    sa.CheckConstraint("status != 'refused' OR refusal_reason != ''", name=op.f('ck_service_referral_refused_has_reason')),
    sa.CheckConstraint("status IN ('proposed', 'dropped') OR requested_at IS NOT NULL", name=op.f('ck_service_referral_requested_beyond_proposed')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_service_referral_version_positive')),
    sa.ForeignKeyConstraint(['action_id'], ['pact_action.id'], name=op.f('fk_service_referral_action_id_pact_action'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_service_referral_pact_id_pact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_service_referral_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_referral_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_referral'))
    )
    with op.batch_alter_table('service_referral', schema=None) as batch_op:
        batch_op.create_index('ix_service_referral_action_id', ['action_id'], unique=False)
        batch_op.create_index('ix_service_referral_pact_id', ['pact_id'], unique=False)
        batch_op.create_index('ix_service_referral_service_status', ['service_id', 'status'], unique=False)

    op.create_table('data_sharing_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('collected_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.CheckConstraint('withdrawn_at IS NULL OR withdrawn_at >= recorded_at', name=op.f('ck_data_sharing_consent_withdrawn_after_recorded')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_data_sharing_consent_beneficiary_id_beneficiary'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['collected_by_id'], ['user_account.id'], name=op.f('fk_data_sharing_consent_collected_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_data_sharing_consent_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['referral_id'], ['service_referral.id'], name=op.f('fk_data_sharing_consent_referral_id_service_referral'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_sharing_consent'))
    )
    with op.batch_alter_table('data_sharing_consent', schema=None) as batch_op:
        batch_op.create_index('ix_data_sharing_consent_beneficiary_organisation', ['beneficiary_id', 'organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_sharing_consent_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_data_sharing_consent_referral_id', ['referral_id'], unique=False)

    op.create_table('service_referral_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_service_referral_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_service_referral_event_pact_id_pact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['service_referral.id'], name=op.f('fk_service_referral_event_referral_id_service_referral'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_referral_event'))
    )
    with op.batch_alter_table('service_referral_event', schema=None) as batch_op:
        batch_op.create_index('ix_service_referral_event_pact_at', ['pact_id', 'at'], unique=False)
        batch_op.create_index('ix_service_referral_event_referral_id', ['referral_id'], unique=False)

    for statement in append_only_ddl('service_referral_event').get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_board', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.drop_column('public_board')

    with op.batch_alter_table('service_referral_event', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referral_event_referral_id')
        batch_op.drop_index('ix_service_referral_event_pact_at')

    op.drop_table('service_referral_event')
    with op.batch_alter_table('data_sharing_consent', schema=None) as batch_op:
        batch_op.drop_index('ix_data_sharing_consent_referral_id')
        batch_op.drop_index(batch_op.f('ix_data_sharing_consent_organisation_id'))
        batch_op.drop_index('ix_data_sharing_consent_beneficiary_organisation')

    op.drop_table('data_sharing_consent')
    with op.batch_alter_table('service_referral', schema=None) as batch_op:
        batch_op.drop_index('ix_service_referral_service_status')
        batch_op.drop_index('ix_service_referral_pact_id')
        batch_op.drop_index('ix_service_referral_action_id')

    op.drop_table('service_referral')
    with op.batch_alter_table('service_search_term', schema=None) as batch_op:
        batch_op.drop_index('ix_service_search_term_service_id')

    op.drop_table('service_search_term')
    with op.batch_alter_table('service_language', schema=None) as batch_op:
        batch_op.drop_index('ix_service_language_language')

    op.drop_table('service_language')
    with op.batch_alter_table('service_comune', schema=None) as batch_op:
        batch_op.drop_index('ix_service_comune_territory_id')

    op.drop_table('service_comune')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index('ix_service_type_active')
        batch_op.drop_index('ix_service_organisation_id')
        batch_op.drop_index('ix_service_last_checked_on')

    op.drop_table('service')
    with op.batch_alter_table('service_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_type_need_area'))
        batch_op.drop_index(batch_op.f('ix_service_type_macro_area_id'))

    op.drop_table('service_type')
    op.drop_table('service_macro_area')
