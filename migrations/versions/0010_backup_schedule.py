"""backup schedule: scheduled backups chosen in Settings > Backups, and the scheduler's record

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'backup_schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('every_hours', sa.Integer(), nullable=True),
        sa.Column('keep', sa.Integer(), nullable=True),
        sa.Column('last_started_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_succeeded_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_archive', sa.String(length=255), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_schedule')),
    )


def downgrade() -> None:
    op.drop_table('backup_schedule')
