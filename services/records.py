"""Frozen results services hand back, and lookups they share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Client
from services.errors import NotFound


@dataclass(frozen=True)
class DocumentRef:
    id: int
    public_id: str
    number: str


def get_client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client", client_id)
    return client
