"""Stripe's card element on the payment form: number, expiry and CVC go from the browser to Stripe.

A few lines of inline glue drive Stripe.js: mount the element, ``confirmCardSetup`` to turn what was
typed into a PaymentMethod (the server gets its id only), and ``confirmCardPayment`` for a 3-D Secure
challenge. Values reach the script through ``json.dumps``, never by pasting text into code.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from services.i18n import N_, _

BROWSER_WAIT = 600.0  # seconds a customer may take over a bank's 3-D Secure page
NOT_LOADED = N_("The secure card form did not load; please reload the page.")


@dataclass(frozen=True)
class CardSetupAnswer:
    payment_method_id: str = ""
    error: str = ""


class StripeCardField:
    def __init__(self, publishable_key: str, js_url: str) -> None:
        self.publishable_key = publishable_key
        ui.add_head_html(f'<script src="{html.escape(js_url, quote=True)}"></script>')
        ui.label(_("Card")).classes("text-sm text-grey-8")
        self.box = ui.element("div").classes("w-full rounded-borders q-pa-sm bg-white")
        self.box.style("border: 1px solid rgba(0,0,0,.24); min-height: 2.5rem")
        self.box.props("data-testid=stripe-card")
        ui.label(_("Card number, expiry and CVC go straight to Stripe; we never see them.")).classes(
            "text-xs text-grey-7 -mt-1"
        )

    async def mount(self) -> None:
        await ui.context.client.connected()
        ui.run_javascript(
            f"""
            window.portalStripe = Stripe({json.dumps(self.publishable_key)});
            window.portalCard = window.portalStripe.elements().create('card');
            window.portalCard.mount('#c{self.box.id}');
            """
        )

    async def confirm_setup(self, client_secret: str, billing_details: dict[str, Any]) -> CardSetupAnswer:
        """Hand the typed card to Stripe; returns the new PaymentMethod's id or Stripe's message."""
        answer = await ui.run_javascript(
            f"""
            if (!window.portalStripe) return {{error: {json.dumps(_(NOT_LOADED))}}};
            const result = await window.portalStripe.confirmCardSetup({json.dumps(client_secret)}, {{
                payment_method: {{card: window.portalCard, billing_details: {json.dumps(billing_details)}}},
            }});
            if (result.error) return {{error: result.error.message || 'The card was not accepted.'}};
            const method = result.setupIntent.payment_method;
            return {{payment_method: typeof method === 'string' ? method : method.id}};
            """,
            timeout=BROWSER_WAIT,
        )
        if not isinstance(answer, dict):
            return CardSetupAnswer(error=_("The secure card form did not answer; nothing was charged."))
        return CardSetupAnswer(str(answer.get("payment_method") or ""), str(answer.get("error") or ""))

    async def authenticate(self, client_secret: str) -> None:
        """Let the customer answer the bank's 3-D Secure challenge; the server then asks Stripe."""
        await ui.run_javascript(
            f"""
            await window.portalStripe.confirmCardPayment({json.dumps(client_secret)});
            return true;
            """,
            timeout=BROWSER_WAIT,
        )
