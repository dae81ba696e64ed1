"""tax number, bank account and e-invoices: what invoices print and carry of the business

``organizations`` gets the business's tax number (or VAT ID), its bank's name, IBAN (compact) and BIC,
all printed on invoices (the IBAN also makes a euro invoice's EPC QR code), and ``e_invoices``: whether
invoice PDFs are Factur-X (PDF/A-3 with the EN 16931 XML), off for every existing business.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_id', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bank_name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('iban', sa.String(length=34), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bic', sa.String(length=11), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('e_invoices', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('e_invoices')
        batch_op.drop_column('bic')
        batch_op.drop_column('iban')
        batch_op.drop_column('bank_name')
        batch_op.drop_column('tax_id')
