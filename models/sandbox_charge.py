"""The sandbox gateway's own record of the charges it was asked for.

A real gateway keeps its charges on its own servers; the sandbox keeps them here, written in a
transaction of its own, so that a charge the portal never heard back about (the process killed, the
database failing while booking) can still be found by our payment's id after a restart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SandboxCharge(Base):
    __tablename__ = "sandbox_charges"

    # Our payment's public id, the idempotency key of the charge.
    idempotency_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    # "" when the attempt was closed without a charge: the sandbox then refuses that key for good.
    gateway_payment_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
