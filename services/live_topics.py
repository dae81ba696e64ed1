"""Which change notices a signed-in customer's open pages listen to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from models import Client, Payment
from services.database import Database
from services.errors import NotFound
from services.events import client_documents_topic
from services.principal import Principal


def known_documents_topic(principal: Principal) -> str | None:
    """``documents_topic`` without the database, when the session read the client's public id (which
    never changes); None otherwise."""
    return client_documents_topic(principal.client_public_id) if principal.client_public_id else None


def documents_topic(db: Database, principal: Principal) -> str:
    """The topic that moves when the business changes one of this customer's documents or payments."""
    known = known_documents_topic(principal)
    if known is not None:
        return known
    with db.reading() as session:
        public_id = session.scalar(select(Client.public_id).where(Client.id == principal.client_id))
    if public_id is None:
        raise NotFound("client", principal.client_id)
    return client_documents_topic(public_id)


def payments_topics(db: Database, payment_public_ids: Iterable[str]) -> set[str]:
    """The topics of the clients these payments belong to: their pages show the payments' state."""
    wanted = set(payment_public_ids)
    if not wanted:
        return set()
    with db.reading() as session:
        ids = session.scalars(
            select(Client.public_id)
            .join(Payment, Payment.client_id == Client.id)
            .where(Payment.public_id.in_(wanted))
        ).all()
    return {client_documents_topic(public_id) for public_id in ids}


def charge_topics(db: Database, gateway_name: str, gateway_payment_id: str, reference: str) -> set[str]:
    """The topic of the client whose payment a gateway's charge is (by the gateway's id or ours)."""
    found = [Payment.gateway_payment_id == gateway_payment_id] if gateway_payment_id else []
    if reference:
        found.append(Payment.public_id == reference)
    if not found:
        return set()
    with db.reading() as session:
        ids = session.scalars(
            select(Client.public_id)
            .join(Payment, Payment.client_id == Client.id)
            .where(Payment.gateway == gateway_name, or_(*found))
        ).all()
    return {client_documents_topic(public_id) for public_id in ids}
