"""The back office's sign-in page: a plain form posted to /admin/auth/login, which sets the admin cookie."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from api.auth import admin_target
from components.banner import banner
from components.branding import business_branding
from components.frame import business_mark, demo_banner, signed_out_card
from components.theme import apply_theme
from components.url_params import UrlParams
from pages.login import sign_in_message
from services import portal
from services.demo import OWNER_EMAIL, OWNER_PASSWORD
from services.i18n import N_, _

NOTICES = {
    "signed_out": ("positive", N_("You have signed out of the back office.")),
    "expired": ("warning", N_("Your session has ended. Please sign in again.")),
    "welcome": ("positive", N_("Your business is set up. Sign in with the e-mail and password you chose.")),
}


@ui.page("/admin/login")
async def admin_login_page(request: Request) -> None:
    current = portal.current()
    branding = await business_branding(current.db)
    params = UrlParams(request.query_params)
    apply_theme()
    ui.page_title(_("Back office sign-in · {name}").format(name=branding.name))
    if branding.is_demo:
        demo_banner()
    with signed_out_card():
        business_mark(branding, large=True, heading=True)
        ui.label(_("Back office: sign in as the business's owner or staff.")).classes("text-grey-8")
        message = sign_in_message(params.text("error"), params.text("minutes"), current.clock)
        if message:
            banner("negative", message)
        for key, (kind, text) in NOTICES.items():
            if params.given(key) and not message:
                banner(kind, _(text))
        with ui.element("form").props("method=post action=/admin/auth/login").classes("w-full column gap-3"):
            ui.input(_("Email"), value=params.text("email", max_length=254)).props(
                "name=email type=email autocomplete=username outlined autofocus"
            ).classes("w-full")
            ui.input(_("Password"), password=True, password_toggle_button=True).props(
                "name=password autocomplete=current-password outlined"
            ).classes("w-full")
            hidden = ui.element("input").props("type=hidden name=next")
            hidden.props["value"] = admin_target(params.text("next", max_length=2000))
            ui.button(_("Sign in")).props("type=submit unelevated no-caps size=lg color=grey-10").classes(
                "w-full"
            )
        if branding.is_demo:
            ui.label(
                _("Demo login: {OWNER_EMAIL} / {OWNER_PASSWORD}").format(
                    OWNER_EMAIL=OWNER_EMAIL, OWNER_PASSWORD=OWNER_PASSWORD
                )
            ).classes("text-xs text-grey-7 self-center")
