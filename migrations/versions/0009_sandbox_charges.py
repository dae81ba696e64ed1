"""sandbox charges: the sandbox gateway's own record, so an unanswered attempt can be found again;
an index of the payments reconciliation asks about

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sandbox_charges',
        sa.Column('idempotency_key', sa.String(length=100), nullable=False),
        sa.Column('gateway_payment_id', sa.String(length=100), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_sandbox_charges')),
    )
    with op.batch_alter_table('sandbox_charges', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_sandbox_charges_gateway_payment_id'), ['gateway_payment_id'], unique=False
        )
    unanswered = sa.text("status IN ('pending', 'processing')")
    op.create_index(
        'ix_payments_unanswered', 'payments', ['status'], sqlite_where=unanswered, postgresql_where=unanswered
    )


def downgrade() -> None:
    op.drop_index('ix_payments_unanswered', table_name='payments')
    with op.batch_alter_table('sandbox_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_charges_gateway_payment_id'))
    op.drop_table('sandbox_charges')
