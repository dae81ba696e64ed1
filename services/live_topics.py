"""Which change notices a signed-in customer's open pages listen to."""

from __future__ import annotations

from sqlalchemy import select

from models import Client
from services.database import Database
from services.errors import NotFound
from services.events import client_documents_topic
from services.principal import Principal


def documents_topic(db: Database, principal: Principal) -> str:
    """The topic that moves when the business changes one of this customer's documents or payments."""
    with db.reading() as session:
        public_id = session.scalar(select(Client.public_id).where(Client.id == principal.client_id))
    if public_id is None:
        raise NotFound("client", principal.client_id)
    return client_documents_topic(public_id)
