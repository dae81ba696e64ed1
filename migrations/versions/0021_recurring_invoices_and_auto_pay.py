"""recurring invoices and auto-pay: the business's recurring profiles and the customer's auto-pay consent

Reserved for issue 18 §3; the tables are added by the commit that builds them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
