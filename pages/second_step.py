"""The second step of a sign-in: the code page for customers and staff, and the set-up a staff member
does first where the owner requires two-factor sign-in.

The code pages are plain forms posted to /auth/verify and /admin/auth/verify (``api.second_step``),
which set the session cookie. The challenge's token is read from this browser's cookie when the page
is drawn; nothing here opens a session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from nicegui import ui

from api.auth import (
    ADMIN_CHALLENGE_COOKIE,
    ADMIN_LOGIN_PATH,
    CHALLENGE_COOKIE,
    LOGIN_PATH,
    admin_target,
    client_address,
)
from components.banner import banner
from components.branding import business_branding
from components.frame import business_mark, demo_banner, signed_out_card
from components.headings import page_heading
from components.offload import io_bound
from components.theme import apply_theme
from components.two_factor import SetupForm, code_input, recovery_codes_view
from components.url_params import UrlParams
from services import portal
from services.auth import safe_local_path
from services.branding import Branding
from services.errors import SecondStepExpired, WrongTwoFactorCode, human_message
from services.i18n import N_, _
from services.second_step import SETUP, VERIFY
from services.two_factor import (
    RecoveryCodes,
    challenge_info,
    confirm_required_setup,
    start_required_setup,
)

RECOVERY_HINT = N_("No phone at hand? Enter one of your recovery codes instead (like abcde-fghij).")


@ui.page("/login/verify")
async def verify_page(request: Request) -> None:
    current = portal.current()
    branding = await business_branding(current.db)
    token = request.cookies.get(CHALLENGE_COOKIE)
    info = await io_bound(challenge_info, current.db, token, staff=False, clock=current.clock)
    url = UrlParams(request.query_params)
    target = safe_local_path(url.text("next", max_length=2000))
    with _card(branding, _("Two-step sign-in")):
        if info is None or info.purpose != VERIFY:
            _ended(LOGIN_PATH)
            return
        ui.label(_("Signing in as {email}.").format(email=info.email)).classes(
            "text-sm text-grey-8 break-all"
        )
        _code_form("/auth/verify", target, url.text("error"), button_color="primary")
        ui.label(
            _("Lost your phone and your recovery codes? Ask {name} to reset two-factor sign-in.").format(
                name=branding.name
            )
        ).classes("text-xs text-grey-7")
        ui.link(_("Cancel and start again"), LOGIN_PATH).classes("text-sm text-primary self-center")


@ui.page("/admin/login/verify")
async def admin_verify_page(request: Request) -> None:
    current = portal.current()
    branding = await business_branding(current.db)
    token = request.cookies.get(ADMIN_CHALLENGE_COOKIE)
    info = await io_bound(challenge_info, current.db, token, staff=True, clock=current.clock)
    url = UrlParams(request.query_params)
    target = admin_target(url.text("next", max_length=2000))
    with _card(branding, _("Back office: two-step sign-in")):
        if info is None or info.purpose != VERIFY:
            _ended(ADMIN_LOGIN_PATH)
            return
        ui.label(_("Signing in as {email}.").format(email=info.email)).classes(
            "text-sm text-grey-8 break-all"
        )
        _code_form("/admin/auth/verify", target, url.text("error"), button_color="grey-10")
        ui.label(
            _("Lost your phone and your recovery codes? Ask the owner to reset two-factor sign-in.")
        ).classes("text-xs text-grey-7")
        ui.link(_("Cancel and start again"), ADMIN_LOGIN_PATH).classes("text-sm text-primary self-center")


@ui.page("/admin/login/two-factor")
async def admin_two_factor_setup_page(request: Request) -> None:
    """Where the owner requires two-factor sign-in: set it up now, or no back office."""
    current = portal.current()
    branding = await business_branding(current.db)
    token = request.cookies.get(ADMIN_CHALLENGE_COOKIE)
    target = admin_target(UrlParams(request.query_params).text("next", max_length=2000))
    info = await io_bound(challenge_info, current.db, token, staff=True, clock=current.clock)
    with _card(branding, _("Set up two-factor sign-in"), wide=True) as card:
        if info is None or info.purpose != SETUP or info.verified:
            _ended(ADMIN_LOGIN_PATH)
            return
        try:
            setup = await io_bound(start_required_setup, current.db, token, clock=current.clock)
        except SecondStepExpired:
            _ended(ADMIN_LOGIN_PATH)
            return
        banner(
            "warning",
            _(
                "{name} requires two-factor sign-in for everyone in the back office. Set it up now to "
                "continue; it takes a minute."
            ).format(name=branding.name),
        )
        ui.label(_("Signing in as {email}.").format(email=info.email)).classes(
            "text-sm text-grey-8 break-all"
        )
        address = client_address(request)

        async def confirm(code: str) -> RecoveryCodes:
            return await io_bound(
                confirm_required_setup, current.db, token, code, ip_address=address, clock=current.clock
            )

        def done(codes: RecoveryCodes) -> None:
            card.clear()
            with card:
                business_mark(branding, large=True)
                page_heading(_("Two-factor sign-in is on."), "text-lg font-semibold text-positive").mark(
                    "two-factor-done"
                )
                recovery_codes_view(codes)
                with ui.element("form").props("method=post action=/admin/auth/two-factor").classes("w-full"):
                    _hidden("next", target)
                    ui.button(_("I saved them: continue to the back office")).props(
                        "type=submit unelevated no-caps color=grey-10"
                    ).classes("w-full").mark("two-factor-continue")

        SetupForm(setup, confirm, on_done=done)
        ui.link(_("Cancel and start again"), ADMIN_LOGIN_PATH).classes("text-sm text-primary self-center")


@contextmanager
def _card(branding: Branding, title: str, *, wide: bool = False) -> Iterator[ui.card]:
    apply_theme()
    ui.page_title(_("{title} · {name}").format(title=title, name=branding.name))
    if branding.is_demo:
        demo_banner()
    width = "max-w-xl" if wide else "max-w-sm"
    with signed_out_card(width) as card:
        business_mark(branding, large=True)
        page_heading(title, "text-lg font-semibold")
        yield card


def _ended(login_path: str) -> None:
    banner("warning", human_message(SecondStepExpired()))
    ui.button(_("Sign in again")).props(f"unelevated no-caps href={login_path}").classes("w-full").mark(
        "second-step-restart"
    )


def _code_form(action: str, target: str, error: str | None, *, button_color: str) -> None:
    if error == "code":
        banner("negative", human_message(WrongTwoFactorCode()))
    elif error == "origin":
        banner("negative", _("Your sign-in could not be verified. Please try again."))
    ui.label(_("Enter the 6-digit code from your authenticator app.")).classes("text-sm")
    with ui.element("form").props(f"method=post action={action}").classes("w-full column gap-3"):
        field = code_input(_("Code"), "second-step-code")
        # not numeric only: a recovery code has letters
        field.props("name=code autofocus maxlength=40", remove="inputmode dense").classes("w-full")
        _hidden("next", target)
        ui.button(_("Verify")).props(f"type=submit unelevated no-caps size=lg color={button_color}").classes(
            "w-full"
        ).mark("second-step-submit")
    ui.label(_(RECOVERY_HINT)).classes("text-xs text-grey-7")


def _hidden(name: str, value: str) -> None:
    hidden = ui.element("input").props(f"type=hidden name={name}")
    hidden.props["value"] = value
