"""What every route shares: the calling business (from its API key), paging cursors, public ids in paths."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.v1.problems import ApiProblem
from services.api_keys import ApiPrincipal
from services.errors import NotFound

# Documents the scheme in OpenAPI; the key itself is checked by ApiKeyGuard before any route runs.
bearer = HTTPBearer(auto_error=False, description="An API key made by the owner in Settings")
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _caller(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> ApiPrincipal:
    principal = getattr(request.state, "api_principal", None)
    if not isinstance(principal, ApiPrincipal):
        raise ApiProblem(401, "unauthorized", "A valid API key is needed.")
    return principal


Caller = Annotated[ApiPrincipal, Depends(_caller)]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")]


def encode_cursor(after_id: int | None) -> str | None:
    return None if after_id is None else base64.urlsafe_b64encode(str(after_id).encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    if not text.isdigit() or len(text) > 18:
        raise ApiProblem(400, "invalid-cursor", "The cursor is not one this API gave out.")
    return int(text)


def public_id(value: str, kind: str) -> str:
    """An id from a path; one that cannot be ours is simply not found."""
    if not _PUBLIC_ID.fullmatch(value):
        raise NotFound(kind, value)
    return value
