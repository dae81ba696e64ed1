"""pay links: a link in an invoice e-mail that opens that one invoice, to pay it without signing in

Only the SHA-256 of each link's token is kept, with its invoice, its expiry (the business's
``pay_link_days``, 60 to begin with) and when the business revoked it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pay_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_pay_links_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_pay_links_token_hash')),
    )
    with op.batch_alter_table('pay_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_links_invoice_id'), ['invoice_id'], unique=False)
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_link_days', sa.Integer(), nullable=False, server_default='60'))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('pay_link_days')
    with op.batch_alter_table('pay_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pay_links_invoice_id'))
    op.drop_table('pay_links')
