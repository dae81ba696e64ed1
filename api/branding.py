"""The business's logo, public so the sign-in page can show it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from services import portal
from services.branding import get_logo

router = APIRouter()


@router.get("/branding/logo")
def logo() -> Response:
    found = get_logo(portal.current().db)
    if found is None:
        raise HTTPException(status_code=404)
    content, media_type = found
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=300"})
