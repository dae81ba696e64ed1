"""sign-in links: whether the business lets customers sign in by a link sent by e-mail

On for every business, as for new ones: a customer asks for a link on the sign-in page
(``services.sign_in_links``); the owner can turn it off in Settings.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_sign_in_links', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('allow_sign_in_links')
