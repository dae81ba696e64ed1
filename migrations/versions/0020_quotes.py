"""quotes: the business's quotes, their lines, and the customer's acceptance or decline

Reserved for the quotes of issue 18 §4; the tables are added by the commit that builds them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
