"""Clients and their contact persons."""

from __future__ import annotations

from fastapi import APIRouter

from api.v1.common import Caller, Cursor, Limit, decode_cursor, encode_cursor, public_id
from api.v1.schemas import (
    ClientCreate,
    ClientList,
    ClientOut,
    ClientUpdate,
    ContactCreate,
    ContactList,
    ContactOut,
)
from services import clients, portal
from services.clients import ClientInput

router = APIRouter(prefix="/clients", tags=["clients"])


@router.get("", response_model=ClientList)
def list_clients(caller: Caller, limit: Limit = 50, cursor: Cursor = None) -> ClientList:
    current = portal.current()
    page = clients.list_clients(
        current.db, caller.organization_id, after_id=decode_cursor(cursor), limit=limit
    )
    return ClientList(
        data=[ClientOut.of(c) for c in page.clients], next_cursor=encode_cursor(page.next_after_id)
    )


@router.post("", response_model=ClientOut, status_code=201)
def create_client(caller: Caller, body: ClientCreate) -> ClientOut:
    current = portal.current()
    details = ClientInput(**(body.model_dump(exclude={"address"}) | {"address": body.address.as_input()}))
    return ClientOut.of(
        clients.create_client(current.db, caller.organization_id, details, clock=current.clock)
    )


@router.get("/{client_id}", response_model=ClientOut)
def get_client(caller: Caller, client_id: str) -> ClientOut:
    return ClientOut.of(
        clients.get_client(portal.current().db, caller.organization_id, public_id(client_id, "client"))
    )


@router.patch("/{client_id}", response_model=ClientOut)
def update_client(caller: Caller, client_id: str, body: ClientUpdate) -> ClientOut:
    """Change the fields sent, and only those (of an address, only its fields sent); null is refused."""
    db = portal.current().db
    changed = clients.change_client(db, caller.organization_id, public_id(client_id, "client"), body.change())
    return ClientOut.of(changed)


@router.get("/{client_id}/contacts", response_model=ContactList)
def list_contacts(caller: Caller, client_id: str) -> ContactList:
    contacts = clients.list_contacts(
        portal.current().db, caller.organization_id, public_id(client_id, "client")
    )
    return ContactList(data=[ContactOut.of(contact) for contact in contacts])


@router.post("/{client_id}/contacts", response_model=ContactOut, status_code=201)
def invite_contact(caller: Caller, client_id: str, body: ContactCreate) -> ContactOut:
    """Add a contact person and e-mail them an invitation to the portal (valid 72 hours)."""
    current = portal.current()
    contact = clients.invite_client_contact(
        current.db,
        caller.organization_id,
        public_id(client_id, "client"),
        name=body.name,
        email=body.email,
        base_url=current.settings.public_url,
        clock=current.clock,
    )
    return ContactOut.of(contact)
