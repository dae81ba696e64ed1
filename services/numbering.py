"""Document numbers (INV-00001, RCPT-00001, CN-00001, QT-00001), taken under a row lock so none repeats."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import NumberSequence
from services.database import insert_unless_present

DEFAULT_PREFIXES = {
    "invoice": "INV-",
    "retainer": "RET-",
    "receipt": "RCPT-",
    "credit_note": "CN-",
    "quote": "QT-",
}


def next_number(session: Session, organization_id: int, kind: str) -> str:
    """The next number of ``kind``, taken in one ``UPDATE ... RETURNING``: it locks the sequence's row
    until the caller's transaction ends, and a second caller waits and takes the number after."""
    take = (
        update(NumberSequence)
        .where(NumberSequence.organization_id == organization_id, NumberSequence.kind == kind)
        .values(next_value=NumberSequence.next_value + 1)
        .returning(NumberSequence.prefix, NumberSequence.next_value, NumberSequence.width)
    )
    taken = session.execute(take).one_or_none()
    if taken is None:
        # Two first documents of a kind at once would both insert the row; the second must wait for
        # the first and then take the next number, not fail on the unique constraint.
        insert_unless_present(
            session,
            NumberSequence,
            ["organization_id", "kind"],
            organization_id=organization_id,
            kind=kind,
            prefix=DEFAULT_PREFIXES[kind],
            next_value=1,
            width=5,
        )
        taken = session.execute(take).one()
    prefix, after, width = taken
    return f"{prefix}{after - 1:0{width}d}"
