"""Who is signed in. Every service that reads customer data takes one and scopes to its client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ActsForClient(Protocol):
    """Whoever a payment is made for: a signed-in customer (``Principal``), or someone paying one
    invoice through its pay link, who has no login (``services.pay_links.LinkPayer``)."""

    @property
    def client_id(self) -> int: ...

    @property
    def portal_user_id(self) -> int | None: ...

    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class Principal:
    portal_user_id: int
    client_id: int
    organization_id: int
    name: str
    email: str
    session_id: int
    language: str = ""  # their own choice; "" for their browser's, then the business's
    time_zone: str = ""  # their own choice; "" for the business's
    client_public_id: str = ""  # their client's public id, where the sign-in read it ("" elsewhere)
