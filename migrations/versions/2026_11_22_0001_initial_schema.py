"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 11:37:09.094176
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
APPEND_ONLY_DDL = {
    'sqlite': [
        "CREATE TRIGGER transition_record_no_update BEFORE UPDATE ON transition_record BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END",
        "CREATE TRIGGER transition_record_no_delete BEFORE DELETE ON transition_record BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_transition_record_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'transition records are append-only' USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER transition_record_append_only BEFORE UPDATE OR DELETE ON transition_record FOR EACH ROW EXECUTE FUNCTION refuse_transition_record_change()',
    ],
}



def upgrade() -> None:
    op.create_table('territory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('ambito', 'unione', 'consorzio', 'comune', name='territory_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('istat_code', sa.String(length=6), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind != 'comune' OR (istat_code IS NOT NULL AND length(istat_code) = 6)", name=op.f('ck_territory_comune_has_istat_code')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id != id', name=op.f('ck_territory_not_own_parent')),
    sa.ForeignKeyConstraint(['parent_id'], ['territory.id'], name=op.f('fk_territory_parent_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_territory')),
    sa.UniqueConstraint('istat_code', name=op.f('uq_territory_istat_code'))
    )
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_territory_parent_id'), ['parent_id'], unique=False)

    op.create_table('beneficiary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('codice_fiscale', sa.String(length=16), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_place', sa.String(length=120), nullable=False),
    sa.Column('gender', sa.Enum('female', 'male', 'other', name='gender', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('migrant_background', sa.Boolean(), nullable=False),
    sa.Column('citizenship', sa.String(length=80), nullable=False),
    sa.Column('comune_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('codice_fiscale IS NULL OR length(codice_fiscale) = 16', name=op.f('ck_beneficiary_codice_fiscale_length')),
    sa.ForeignKeyConstraint(['comune_id'], ['territory.id'], name=op.f('fk_beneficiary_comune_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary')),
    sa.UniqueConstraint('codice_fiscale', name=op.f('uq_beneficiary_codice_fiscale'))
    )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_comune_id'), ['comune_id'], unique=False)
        batch_op.create_index('ix_beneficiary_name', ['last_name', 'first_name'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('public_body', 'cooperative', 'association', 'school', 'company', 'foundation', name='organisation_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_organisation_territory_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_territory_id'), ['territory_id'], unique=False)

    op.create_table('programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('funder', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('workflow_name', sa.String(length=80), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('no_contact_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_programme_ends_after_start')),
    sa.CheckConstraint('no_contact_days > 0', name=op.f('ck_programme_no_contact_days_positive')),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_programme_territory_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_code'))
    )
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_territory_id'), ['territory_id'], unique=False)

    op.create_table('household_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('relation', sa.Enum('partner', 'child', 'parent', 'sibling', 'grandparent', 'other', name='relation', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_household_member_beneficiary_id_beneficiary'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_member'))
    )
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_member_beneficiary_id'), ['beneficiary_id'], unique=False)

    op.create_table('programme_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_programme_target_value_not_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_target_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_target')),
    sa.UniqueConstraint('programme_id', 'indicator', name=op.f('uq_programme_target_programme_id_indicator'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('full_name', sa.String(length=160), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('case_manager', 'supervisor', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_user_account_territory_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_territory_id'), ['territory_id'], unique=False)

    op.create_table('pact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('case_manager_id', sa.Integer(), nullable=False),
    sa.Column('workflow_name', sa.String(length=80), nullable=False),
    sa.Column('workflow_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Enum('low', 'medium', 'high', name='priority', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('opened_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('state_entered_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('entered_from', sa.String(length=40), nullable=True),
    sa.Column('closed_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('next_deadline_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('next_deadline_label', sa.String(length=80), nullable=False),
    sa.Column('updated_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('closed_at IS NULL OR closed_at >= opened_at', name=op.f('ck_pact_closed_after_opened')),
    sa.CheckConstraint('state_entered_at >= opened_at', name=op.f('ck_pact_entered_after_opened')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_pact_version_positive')),
    sa.CheckConstraint('workflow_version >= 1', name=op.f('ck_pact_workflow_version_positive')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_pact_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['case_manager_id'], ['user_account.id'], name=op.f('fk_pact_case_manager_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_pact_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact'))
    )
    with op.batch_alter_table('pact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pact_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index('ix_pact_case_manager_state', ['case_manager_id', 'state'], unique=False)
        batch_op.create_index('ix_pact_open_deadline', ['next_deadline_at'], unique=False, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_pact_programme_state', ['programme_id', 'state'], unique=False)

    op.create_table('commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.Enum('beneficiary', 'case_manager', 'service', 'family', 'other', name='performer', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_commitment_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment'))
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_pact_id'), ['pact_id'], unique=False)

    op.create_table('follow_up_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('contact_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('channel', sa.Enum('in_person', 'phone', 'video', 'email', 'home_visit', name='contact_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('next_contact_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_follow_up_contact_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_follow_up_contact_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_contact'))
    )
    with op.batch_alter_table('follow_up_contact', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_contact_pact_at', ['pact_id', 'contact_at'], unique=False)

    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('need_area', sa.String(length=40), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('open', 'achieved', 'partly_achieved', 'not_achieved', name='goal_status', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_goal_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_pact_id'), ['pact_id'], unique=False)

    op.create_table('pact_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('external_name', sa.String(length=160), nullable=False),
    sa.Column('role', sa.String(length=80), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('added_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint("user_id IS NOT NULL OR external_name != ''", name=op.f('ck_pact_member_user_or_external')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_member_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pact_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_member')),
    sa.UniqueConstraint('pact_id', 'user_id', name=op.f('uq_pact_member_pact_id_user_id'))
    )
    with op.batch_alter_table('pact_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pact_member_pact_id'), ['pact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pact_member_user_id'), ['user_id'], unique=False)

    op.create_table('pact_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=60), nullable=False),
    sa.Column('goals_achieved', sa.Enum('fully', 'partly', 'not', name='goals_achieved', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_outcome_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_pact_outcome_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_outcome')),
    sa.UniqueConstraint('pact_id', name=op.f('uq_pact_outcome_pact_id'))
    )
    op.create_table('pact_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('signed_by', sa.String(length=300), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(signed_on IS NULL AND signed_by = '') OR (signed_on IS NOT NULL AND signed_by != '')", name=op.f('ck_pact_revision_signature_complete')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_pact_revision_number_positive')),
    sa.CheckConstraint('signed_on IS NULL OR consent_given', name=op.f('ck_pact_revision_signed_with_consent')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_pact_revision_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_revision_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_revision')),
    sa.UniqueConstraint('pact_id', 'number', name=op.f('uq_pact_revision_pact_id_number'))
    )
    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('school', 'social_services', 'educational_services', 'company', 'sportello', 'self', 'other', name='referral_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('referrer_name', sa.String(length=160), nullable=False),
    sa.Column('referrer_contact', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_referral_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_referral_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('pact_id', name=op.f('uq_referral_pact_id'))
    )
    op.create_table('screening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('need_profile', sa.JSON(), nullable=False),
    sa.Column('total_score', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Enum('low', 'medium', 'high', name='priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('completed_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('total_score >= 0', name=op.f('ck_screening_score_not_negative')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['user_account.id'], name=op.f('fk_screening_completed_by_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_screening_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening'))
    )
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_pact_id'), ['pact_id'], unique=False)

    op.create_table('transition_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('from_state', sa.String(length=40), nullable=True),
    sa.Column('to_state', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('pact_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('pact_version >= 1', name=op.f('ck_transition_record_pact_version_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_transition_record_actor_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_transition_record_pact_id_pact'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transition_record')),
    sa.UniqueConstraint('pact_id', 'pact_version', name=op.f('uq_transition_record_pact_id_pact_version'))
    )
    op.create_table('pact_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('performer', sa.Enum('beneficiary', 'case_manager', 'service', 'family', 'other', name='performer', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('performer_detail', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='action_status', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], name=op.f('fk_pact_action_goal_id_goal'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_action_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_action'))
    )
    with op.batch_alter_table('pact_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pact_action_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pact_action_pact_id'), ['pact_id'], unique=False)


    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transition_record_append_only ON transition_record")
        op.execute("DROP FUNCTION IF EXISTS refuse_transition_record_change()")
    with op.batch_alter_table('pact_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pact_action_pact_id'))
        batch_op.drop_index(batch_op.f('ix_pact_action_goal_id'))

    op.drop_table('pact_action')
    op.drop_table('transition_record')
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_pact_id'))

    op.drop_table('screening')
    op.drop_table('referral')
    op.drop_table('pact_revision')
    op.drop_table('pact_outcome')
    with op.batch_alter_table('pact_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pact_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_pact_member_pact_id'))

    op.drop_table('pact_member')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_pact_id'))

    op.drop_table('goal')
    with op.batch_alter_table('follow_up_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_contact_pact_at')

    op.drop_table('follow_up_contact')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_pact_id'))

    op.drop_table('commitment')
    with op.batch_alter_table('pact', schema=None) as batch_op:
        batch_op.drop_index('ix_pact_programme_state')
        batch_op.drop_index('ix_pact_open_deadline', sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index('ix_pact_case_manager_state')
        batch_op.drop_index(batch_op.f('ix_pact_beneficiary_id'))

    op.drop_table('pact')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_territory_id'))
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    op.drop_table('programme_target')
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_member_beneficiary_id'))

    op.drop_table('household_member')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_territory_id'))

    op.drop_table('programme')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_territory_id'))

    op.drop_table('organisation')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index('ix_beneficiary_name')
        batch_op.drop_index(batch_op.f('ix_beneficiary_comune_id'))

    op.drop_table('beneficiary')
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_territory_parent_id'))

    op.drop_table('territory')
