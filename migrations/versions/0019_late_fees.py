"""late fees: the optional fee the daily reminders job adds to an overdue invoice

``reminder_settings`` gets the late fee the business sets in Settings > Reminders: ``late_fee_kind``
('' for none, every existing business; 'fixed' or 'percent'), ``late_fee_value`` (the fixed amount in
the overdue invoice's currency, or the percentage of its balance), ``late_fee_monthly`` (once, or each
month it stays overdue) and ``late_fee_since`` (the business's day it was turned on: no fee for
the days before). ``invoice_late_fees`` holds each fee added: the separate invoice that bills it, unique
per overdue invoice and period so that it is added at most once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reminder_settings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('late_fee_kind', sa.String(length=10), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('late_fee_value', sa.Numeric(precision=12, scale=3), nullable=False, server_default='0')
        )
        batch_op.add_column(
            sa.Column('late_fee_monthly', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('late_fee_since', sa.Date(), nullable=True))
    op.create_table(
        'invoice_late_fees',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('fee_invoice_id', sa.Integer(), nullable=False),
        sa.Column('added_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_late_fees_invoice_id_invoices'),
        ),
        sa.ForeignKeyConstraint(
            ['fee_invoice_id'], ['invoices.id'], name=op.f('fk_invoice_late_fees_fee_invoice_id_invoices'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_late_fees')),
        sa.UniqueConstraint('invoice_id', 'period', name=op.f('uq_invoice_late_fees_invoice_id')),
        sa.UniqueConstraint('fee_invoice_id', name=op.f('uq_invoice_late_fees_fee_invoice_id')),
    )


def downgrade() -> None:
    op.drop_table('invoice_late_fees')
    with op.batch_alter_table('reminder_settings', schema=None) as batch_op:
        batch_op.drop_column('late_fee_since')
        batch_op.drop_column('late_fee_monthly')
        batch_op.drop_column('late_fee_value')
        batch_op.drop_column('late_fee_kind')
