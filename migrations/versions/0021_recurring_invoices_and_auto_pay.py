"""recurring invoices and auto-pay: the business's recurring profiles and the customer's auto-pay consent

``recurring_profiles`` (with ``recurring_profile_lines``) hold what the business bills a client every
N days, weeks, months or years; ``recurring_runs`` the invoice each occurrence made, unique per profile
and day so that it is made once. ``auto_pay_consents`` keeps each consent a customer gave to charge a
saved method (the words shown, who, when, from where, and when it was turned off),
``auto_pay_attempts`` each automatic charge of an invoice, unique per invoice and attempt number, and
``auto_pay_settings`` how the business retries a failed one. No existing table changes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'auto_pay_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('retry_days', sa.Integer(), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], name=op.f('fk_auto_pay_settings_organization_id_organizations')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_pay_settings')),
        sa.UniqueConstraint('organization_id', name=op.f('uq_auto_pay_settings_organization_id')),
    )
    op.create_table(
        'recurring_profiles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=10), nullable=False),
        sa.Column('every', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=True),
        sa.Column('max_count', sa.Integer(), nullable=True),
        sa.Column('due_days', sa.Integer(), nullable=False),
        sa.Column('send', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('next_run', sa.Date(), nullable=True),
        sa.Column('made_count', sa.Integer(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('public_id', sa.String(length=24), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_recurring_profiles_client_id_clients')),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], name=op.f('fk_recurring_profiles_organization_id_organizations')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_profiles')),
        sa.UniqueConstraint('public_id', name=op.f('uq_recurring_profiles_public_id')),
    )
    with op.batch_alter_table('recurring_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurring_profiles_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_profiles_organization_id'), ['organization_id'], unique=False)
    op.create_table(
        'recurring_profile_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('tax_name', sa.String(length=50), nullable=False),
        sa.Column('tax_rate_percent', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['profile_id'],
            ['recurring_profiles.id'],
            name=op.f('fk_recurring_profile_lines_profile_id_recurring_profiles'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_profile_lines')),
    )
    with op.batch_alter_table('recurring_profile_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurring_profile_lines_profile_id'), ['profile_id'], unique=False)
    op.create_table(
        'recurring_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('profile_id', sa.Integer(), nullable=False),
        sa.Column('run_date', sa.Date(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_recurring_runs_invoice_id_invoices')),
        sa.ForeignKeyConstraint(
            ['profile_id'], ['recurring_profiles.id'], name=op.f('fk_recurring_runs_profile_id_recurring_profiles')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_runs')),
        sa.UniqueConstraint('invoice_id', name=op.f('uq_recurring_runs_invoice_id')),
        sa.UniqueConstraint('profile_id', 'run_date', name=op.f('uq_recurring_runs_profile_id')),
    )
    op.create_table(
        'auto_pay_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('saved_method_id', sa.Integer(), nullable=False),
        sa.Column('portal_user_id', sa.Integer(), nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=20), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=False),
        sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_auto_pay_consents_client_id_clients')),
        sa.ForeignKeyConstraint(
            ['portal_user_id'], ['portal_users.id'], name=op.f('fk_auto_pay_consents_portal_user_id_portal_users')
        ),
        sa.ForeignKeyConstraint(
            ['saved_method_id'],
            ['saved_payment_methods.id'],
            name=op.f('fk_auto_pay_consents_saved_method_id_saved_payment_methods'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_pay_consents')),
    )
    with op.batch_alter_table('auto_pay_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auto_pay_consents_client_id'), ['client_id'], unique=False)
    op.create_table(
        'auto_pay_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('consent_id', sa.Integer(), nullable=False),
        sa.Column('run_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('failure_message', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['consent_id'], ['auto_pay_consents.id'], name=op.f('fk_auto_pay_attempts_consent_id_auto_pay_consents')
        ),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_auto_pay_attempts_invoice_id_invoices')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_auto_pay_attempts_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_pay_attempts')),
        sa.UniqueConstraint('invoice_id', 'attempt', name=op.f('uq_auto_pay_attempts_invoice_id')),
    )
    with op.batch_alter_table('auto_pay_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auto_pay_attempts_consent_id'), ['consent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('auto_pay_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auto_pay_attempts_consent_id'))
    op.drop_table('auto_pay_attempts')
    with op.batch_alter_table('auto_pay_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auto_pay_consents_client_id'))
    op.drop_table('auto_pay_consents')
    op.drop_table('recurring_runs')
    with op.batch_alter_table('recurring_profile_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_profile_lines_profile_id'))
    op.drop_table('recurring_profile_lines')
    with op.batch_alter_table('recurring_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_profiles_organization_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_profiles_client_id'))
    op.drop_table('recurring_profiles')
    op.drop_table('auto_pay_settings')
