"""Who is signed in. Every service that reads customer data takes one and scopes to its client."""

from __future__ import annotations

from dataclasses import dataclass


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
