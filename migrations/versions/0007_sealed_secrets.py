"""sealed secrets: room for the encrypted Stripe keys and SMTP password

Start-up seals the values saved before this (services.secret_key.seal_stored_secrets); a migration
cannot, as the key lives outside the database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = ('stripe_secret_key', 'stripe_webhook_secret', 'smtp_password')


def upgrade() -> None:
    with op.batch_alter_table('integration_settings', schema=None) as batch_op:
        for column in SEALED:
            batch_op.alter_column(
                column, existing_type=sa.String(length=255), type_=sa.String(length=2048), existing_nullable=False
            )


def downgrade() -> None:
    with op.batch_alter_table('integration_settings', schema=None) as batch_op:
        for column in SEALED:
            batch_op.alter_column(
                column, existing_type=sa.String(length=2048), type_=sa.String(length=255), existing_nullable=False
            )
