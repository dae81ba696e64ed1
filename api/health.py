"""The load balancer's probes: ``/healthz`` (the process answers) and ``/readyz`` (it can serve).

Both are public (``api.auth.PUBLIC_PROBES``) and say nothing a stranger could use: a status word, and
for a 503 a few words of reason. ``/healthz`` touches no database, so a balancer restarts nothing while
the database is away; ``/readyz`` takes an instance out of rotation until its database answers at the
schema this code expects.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services import portal
from services.health import readiness

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter()


@router.get(HEALTH_PATH, include_in_schema=False)
def healthz() -> JSONResponse:
    """200 while the process serves requests at all; no database, no work."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get(READY_PATH, include_in_schema=False)
async def readyz() -> JSONResponse:
    """200 when the database answers and is migrated to this code's newest revision, else 503 and why."""
    ready = await run_in_threadpool(readiness, portal.current().db)
    if ready.ready:
        return JSONResponse({"status": "ready"}, headers=NO_STORE)
    return JSONResponse({"status": "unavailable", "reason": ready.reason}, status_code=503, headers=NO_STORE)
