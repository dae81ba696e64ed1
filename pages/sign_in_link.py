"""Signing in by e-mail: ask for a link, and the page the link opens, with its Sign in button.

Both are open to anyone; the link's token is the key (``services.sign_in_links``). The link's page
signs in only when its button is pressed (a form posted to /auth/sign-in-link), so a mail scanner that
opens links spends nothing.
"""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.branding import business_branding
from components.offload import io_bound
from components.url_params import UrlParams
from pages.access import _header, _public_card, email_link_form
from services import portal
from services.errors import InvalidToken
from services.i18n import N_, _
from services.sign_in_links import check_sign_in_link, request_sign_in_link

ANSWER_SECONDS = 0.5  # far longer than the request takes, however it ends
LINK_SENT = N_(
    "If that address belongs to a portal login, a sign-in link is on its way. "
    "It works once, for 15 minutes. Check your spam folder if it does not arrive."
)
UNUSABLE = {
    "used": N_("This sign-in link has been used already. Ask for a new one below."),
    "expired": N_("This sign-in link has expired: it works for 15 minutes. Ask for a new one below."),
    "replaced": N_("A newer sign-in link was sent since this one. Use the newest, or ask for a new one."),
    "turned_off": N_("Signing in by e-mail link is turned off. Please sign in with your password."),
    "unknown": N_("This sign-in link is not valid. Ask for a new one below."),
}


@ui.page("/sign-in-by-email")
async def sign_in_by_email_page(request: Request) -> None:
    current = portal.current()
    await _header(_("E-mail me a sign-in link"))
    allowed = (await business_branding(current.db)).allows_sign_in_links
    with _public_card(_("E-mail me a sign-in link")) as card:
        if not allowed:
            banner("warning", _(UNUSABLE["turned_off"]))
            ui.link(_("Back to sign in"), "/login").classes("text-primary")
            return
        email_link_form(
            card,
            request,
            _("Enter your e-mail address and we send you a link that signs you in."),
            request_sign_in_link,
            _(LINK_SENT),
            mark="sign-in-link",
        )


@ui.page("/sign-in-link")
async def sign_in_link_page(request: Request, token: str = "") -> None:
    current = portal.current()
    params = UrlParams(request.query_params)
    await _header(_("Sign in"))
    with _public_card(_("Sign in")):
        problem = params.text("error", max_length=20)
        email = ""
        if not problem:
            try:
                email = await io_bound(check_sign_in_link, current.db, token, clock=current.clock)
            except InvalidToken as refused:
                problem = refused.reason
        if problem:
            banner("negative", _(UNUSABLE.get(problem, UNUSABLE["unknown"])))
            ui.link(_("E-mail me a sign-in link"), "/sign-in-by-email").classes("text-primary")
            ui.link(_("Back to sign in"), "/login").classes("text-sm text-primary")
            return
        ui.label(_("Sign in to the portal as {email}.").format(email=email)).classes("text-sm text-grey-8")
        with ui.element("form").props("method=post action=/auth/sign-in-link").classes("w-full column gap-3"):
            hidden = ui.element("input").props("type=hidden name=token")
            hidden.props["value"] = token
            ui.button(_("Sign in")).props("type=submit unelevated no-caps size=lg").classes("w-full").mark(
                "sign-in-link-submit"
            )
