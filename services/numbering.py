"""Document numbers (INV-00001, RCPT-00001, CN-00001), taken under a row lock so none repeats."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import NumberSequence

DEFAULT_PREFIXES = {"invoice": "INV-", "retainer": "RET-", "receipt": "RCPT-", "credit_note": "CN-"}


def next_number(session: Session, organization_id: int, kind: str) -> str:
    sequence = session.scalars(
        select(NumberSequence)
        .where(NumberSequence.organization_id == organization_id, NumberSequence.kind == kind)
        .with_for_update()
    ).one_or_none()
    if sequence is None:
        sequence = NumberSequence(
            organization_id=organization_id, kind=kind, prefix=DEFAULT_PREFIXES[kind], next_value=1, width=5
        )
        session.add(sequence)
    value = sequence.next_value
    sequence.next_value = value + 1
    session.flush()
    return f"{sequence.prefix}{value:0{sequence.width}d}"
