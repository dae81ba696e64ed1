"""The gateway's webhook: signature-checked, answered quickly, each event booked once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from components.offload import io_bound
from services import portal
from services.gateways.base import InvalidWebhook
from services.webhooks import handle_webhook

WEBHOOK_PATH = "/api/webhooks/stripe"  # its body may be 512 kB at most (api.body_limit)

router = APIRouter()


@router.post(WEBHOOK_PATH)
async def stripe_webhook(request: Request) -> JSONResponse:
    current = portal.current()
    if current.gateway.name != "stripe":
        return JSONResponse({"error": "The Stripe gateway is not configured."}, status_code=404)
    payload = await request.body()
    try:
        event = current.gateway.parse_webhook(payload, request.headers.get("stripe-signature", ""))
    except InvalidWebhook as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    outcome = await io_bound(
        handle_webhook, current.db, current.gateway.name, event, clock=current.clock, events=current.events
    )
    return JSONResponse({"received": True, "outcome": outcome})
