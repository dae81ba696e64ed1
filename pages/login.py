"""The sign-in page: a plain form posted to /auth/login, which sets the session cookie."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.branding import business_branding
from components.frame import business_mark, demo_banner, signed_out_card
from components.theme import apply_theme
from components.url_params import UrlParams, whole_number
from services import portal
from services.auth import safe_local_path
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from services.errors import SecondStepExpired, SignInLocked, SignInRefused, human_message
from services.i18n import N_, _

NOTICES = {
    "signed_out": ("positive", N_("You have signed out.")),
    "expired": ("warning", N_("Your session has ended. Please sign in again.")),
}


@ui.page("/login")
async def login_page(request: Request) -> None:
    current = portal.current()
    branding = await business_branding(current.db)
    params = UrlParams(request.query_params)
    target = safe_local_path(params.text("next", max_length=2000))
    apply_theme()
    ui.page_title(_("Sign in · {name}").format(name=branding.name))
    if branding.is_demo:
        demo_banner()
    with signed_out_card():
        business_mark(branding, large=True, heading=True)
        ui.label(_("Sign in to see your invoices, payments and statement.")).classes("text-grey-8")
        message = sign_in_message(params.text("error"), params.text("minutes"), current.clock)
        if message:
            banner("negative", message)
        for key, (kind, text) in NOTICES.items():
            if params.given(key) and not message:
                banner(kind, _(text))
        with ui.element("form").props("method=post action=/auth/login").classes("w-full column gap-3"):
            ui.input(_("Email"), value=params.text("email", max_length=254)).props(
                "name=email type=email autocomplete=username outlined autofocus"
            ).classes("w-full")
            ui.input(_("Password"), password=True, password_toggle_button=True).props(
                "name=password autocomplete=current-password outlined"
            ).classes("w-full")
            hidden = ui.element("input").props("type=hidden name=next")
            hidden.props["value"] = target
            ui.button(_("Sign in")).props("type=submit unelevated no-caps size=lg").classes("w-full")
        ui.link(_("Forgot password?"), "/forgot-password").classes("text-sm text-primary self-center")
        if branding.allows_sign_in_links:
            ui.link(_("E-mail me a sign-in link"), "/sign-in-by-email").classes(
                "text-sm text-primary self-center"
            )
        if branding.is_demo:
            ui.label(
                _("Demo login: {CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}").format(
                    CUSTOMER_EMAIL=CUSTOMER_EMAIL, CUSTOMER_PASSWORD=CUSTOMER_PASSWORD
                )
            ).classes("text-xs text-grey-7 self-center")


def sign_in_message(error: str | None, minutes: str | None, clock: portal.Clock) -> str:
    """The sentence for a refused sign-in, from the ``error`` and ``minutes`` the login route sent."""
    if error == "invalid":
        return human_message(SignInRefused())
    if error == "locked":
        wait = whole_number(minutes, 15, lowest=0)
        now = clock()
        return human_message(SignInLocked(now + timedelta(minutes=min(wait, 24 * 60))), now=now)
    if error == "origin":
        return _("Your sign-in could not be verified. Please try again.")
    if error == "second_step":
        return human_message(SecondStepExpired())
    return ""
