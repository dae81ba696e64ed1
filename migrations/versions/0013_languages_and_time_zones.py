"""languages and time zones: the business's default language and time zone, each person's own

The business's default language starts as the language of the locale it was set up with (a de_DE
business speaks German to readers who chose nothing), its time zone as UTC, which is what every page
showed so far. Customers and staff start with no choice of their own ("").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_language', sa.String(length=20), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC'))
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default=''))
    organizations = sa.table(
        'organizations', sa.column('id', sa.Integer), sa.column('locale', sa.String), sa.column('default_language', sa.String)
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(organizations.c.id, organizations.c.locale)).all():
        language = (row.locale or 'en').replace('-', '_').split('_')[0].lower() or 'en'
        connection.execute(
            organizations.update().where(organizations.c.id == row.id).values(default_language=language[:20])
        )


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('language')
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('language')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('default_language')
