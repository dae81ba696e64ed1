"""rendered attachments: an attachment the outbox sender renders when it sends the message

A receipt e-mail carries the receipt's PDF, rendered by the sender rather than in the payment's own
transaction: the attachment row names the document (``rendered_from``) and gets its content when the
message is first sent. Every attachment so far had its content from the start ("").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rendered_from', sa.String(length=100), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_column('rendered_from')
