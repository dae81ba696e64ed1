"""quotes: the business's quotes, their lines, and the customer's acceptance or decline

``quotes`` holds each quote (numbered in its own series), its totals, valid-until day and deposit
percentage, and the customer's answer: who, when, from which address, the typed name that signs an
acceptance or the reason for a decline, and the invoice an accepted quote became (unique: at most one).
``quote_lines`` holds its lines, as ``invoice_lines`` does. ``comments`` may now be about a quote
instead of an invoice (``quote_id``; exactly one of the two), so a quote has the invoice's thread.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'quotes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('issue_date', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('deposit_percent', sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('answered_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_ip', sa.String(length=45), nullable=False),
        sa.Column('signature_name', sa.String(length=200), nullable=False),
        sa.Column('decline_reason', sa.Text(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('public_id', sa.String(length=24), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], name=op.f('fk_quotes_organization_id_organizations')
        ),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_quotes_client_id_clients')),
        sa.ForeignKeyConstraint(
            ['answered_by_id'], ['portal_users.id'], name=op.f('fk_quotes_answered_by_id_portal_users')
        ),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_quotes_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
        sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_quotes_organization_id')),
        sa.UniqueConstraint('public_id', name=op.f('uq_quotes_public_id')),
        sa.UniqueConstraint('invoice_id', name=op.f('uq_quotes_invoice_id')),
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index('ix_quotes_client_status', ['client_id', 'status'], unique=False)
    op.create_table(
        'quote_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quote_id', sa.Integer(), nullable=False),
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
            ['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines')),
    )
    with op.batch_alter_table('quote_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_lines_quote_id'), ['quote_id'], unique=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quote_id', sa.Integer(), nullable=True))
        batch_op.alter_column('invoice_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f('fk_comments_quote_id_quotes'), 'quotes', ['quote_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_comments_quote_id'), ['quote_id'], unique=False)
        batch_op.create_check_constraint('one_subject', '(invoice_id IS NULL) <> (quote_id IS NULL)')


def downgrade() -> None:
    # A quote's comments have no invoice to stay with: they go with the quotes.
    op.execute('DELETE FROM comments WHERE quote_id IS NOT NULL')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint('one_subject', type_='check')
        batch_op.drop_index(batch_op.f('ix_comments_quote_id'))
        batch_op.drop_constraint(batch_op.f('fk_comments_quote_id_quotes'), type_='foreignkey')
        batch_op.alter_column('invoice_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('quote_id')
    op.drop_table('quote_lines')
    op.drop_table('quotes')
