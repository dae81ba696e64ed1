"""back office settings: invoice defaults, accepted payment methods, tax rates, integrations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_terms', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('default_notes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accept_cards', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(
            sa.Column('accept_bank_debits', sa.Boolean(), nullable=False, server_default=sa.true())
        )

    op.create_table('tax_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rate_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_tax_rates_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_rates')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_tax_rates_organization_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_tax_rates_public_id'))
    )
    with op.batch_alter_table('tax_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tax_rates_organization_id'), ['organization_id'], unique=False)

    op.create_table('integration_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('stripe_secret_key', sa.String(length=255), nullable=False),
    sa.Column('stripe_publishable_key', sa.String(length=255), nullable=False),
    sa.Column('stripe_webhook_secret', sa.String(length=255), nullable=False),
    sa.Column('smtp_host', sa.String(length=255), nullable=False),
    sa.Column('smtp_port', sa.Integer(), nullable=False),
    sa.Column('smtp_user', sa.String(length=255), nullable=False),
    sa.Column('smtp_password', sa.String(length=255), nullable=False),
    sa.Column('smtp_security', sa.String(length=10), nullable=False),
    sa.Column('smtp_from', sa.String(length=254), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_integration_settings_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_settings')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_integration_settings_organization_id'))
    )


def downgrade() -> None:
    op.drop_table('integration_settings')
    with op.batch_alter_table('tax_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tax_rates_organization_id'))
    op.drop_table('tax_rates')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('accept_bank_debits')
        batch_op.drop_column('accept_cards')
        batch_op.drop_column('default_notes')
        batch_op.drop_column('default_terms')
