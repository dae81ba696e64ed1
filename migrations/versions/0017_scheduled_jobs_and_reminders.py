"""scheduled jobs and payment reminders: one scheduler's leases, the business's reminder rules and texts

``scheduled_jobs`` holds every piece of background work (the outbox, payment settling, scheduled
backups, each business's reminders) with its lease, so that instances sharing the database run each job
once (``services.scheduler``). ``reminder_settings`` and ``reminder_texts`` keep the reminders the owner
sets in Settings (off until then); ``invoice_reminders`` records each one sent, at most one per invoice
and rule. Every existing client gets reminders once they are turned on (``clients.send_reminders``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scheduled_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_holder', sa.String(length=100), nullable=False),
        sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_succeeded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_jobs')),
        sa.UniqueConstraint('kind', 'key', name=op.f('uq_scheduled_jobs_kind')),
    )
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_jobs_due', ['due_at'], unique=False)
    op.create_table(
        'reminder_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('rule_days', sa.String(length=200), nullable=False),
        sa.Column('sent_through', sa.Date(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_reminder_settings_organization_id_organizations'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_settings')),
        sa.UniqueConstraint('organization_id', name=op.f('uq_reminder_settings_organization_id')),
    )
    op.create_table(
        'reminder_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=20), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_reminder_texts_organization_id_organizations'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_texts')),
        sa.UniqueConstraint('organization_id', 'language', 'stage', name=op.f('uq_reminder_texts_organization_id')),
    )
    op.create_table(
        'invoice_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('rule_days', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('email_id', sa.Integer(), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_reminders_invoice_id_invoices'),
        ),
        sa.ForeignKeyConstraint(
            ['email_id'], ['outbox_emails.id'], name=op.f('fk_invoice_reminders_email_id_outbox_emails'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_reminders')),
        sa.UniqueConstraint('invoice_id', 'rule_days', name=op.f('uq_invoice_reminders_invoice_id')),
    )
    with op.batch_alter_table('invoice_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_reminders_email_id'), ['email_id'], unique=False)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_reminders', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('send_reminders')
    with op.batch_alter_table('invoice_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_reminders_email_id'))
    op.drop_table('invoice_reminders')
    op.drop_table('reminder_texts')
    op.drop_table('reminder_settings')
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduled_jobs_due')
    op.drop_table('scheduled_jobs')
