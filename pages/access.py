"""Getting in without a password: Forgot password? (a reset link by e-mail) and the page a link opens
to set a password (an invitation or a reset). Both are open to anyone; the token is the key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from components.branding import business_branding
from components.frame import business_mark, demo_banner, signed_out_card
from components.headings import page_heading
from components.offload import io_bound
from components.password_fields import NewPasswordFields
from components.theme import apply_theme
from services import portal
from services.errors import DomainError, InvalidToken, human_message
from services.i18n import N_, _
from services.invitations import check_token, request_password_reset, set_password

RESET_ANSWER_SECONDS = 0.5  # far longer than the request takes, however it ends
RESET_SENT = N_(
    "If that address belongs to a portal login, a link to set a new password is on its way. "
    "It works once, for one hour. Check your spam folder if it does not arrive."
)


@contextmanager
def _public_card(title: str) -> Iterator[ui.column]:
    """The card under its title; what it yields is cleared for the outcome, and the page's h1 stays."""
    with signed_out_card():
        page_heading(title, "text-xl font-semibold")
        with ui.column().classes("w-full gap-4 p-0") as body:
            yield body


async def _header(title: str) -> None:
    branding = await business_branding(portal.current().db)
    apply_theme()
    ui.page_title(_("{title} · {name}").format(title=title, name=branding.name))
    if branding.is_demo:
        demo_banner()
    with ui.row().classes("w-full justify-center pt-6"):
        business_mark(branding, large=True)


@ui.page("/forgot-password")
async def forgot_password_page(request: Request) -> None:
    await _header(_("Forgot password?"))
    with _public_card(_("Forgot password?")) as card:
        email_link_form(
            card,
            request,
            _("Enter your e-mail address and we send you a link to set a new password."),
            request_password_reset,
            _(RESET_SENT),
            mark="reset",
        )


def email_link_form(
    card: ui.element, request: Request, intro: str, send_link: Callable[..., None], sent: str, *, mark: str
) -> None:
    """An e-mail address and Send link, answered with ``sent`` after the same time whatever happened.

    ``send_link(db, email, base_url=, ip_address=, clock=)`` sends a link (a reset, a sign-in) if the
    address has a login; the page never says whether it had.
    """
    current = portal.current()
    address = client_address(request)
    ui.label(intro).classes("text-sm text-grey-8")
    email = ui.input(_("Email")).props("type=email autocomplete=username outlined autofocus maxlength=254")
    email.classes("w-full").mark(f"{mark}-email")

    async def send() -> None:
        if "@" not in (email.value or ""):
            error.text = _("Enter the e-mail address you sign in with.")
            return
        button.props("loading")
        started = time.monotonic()
        await io_bound(
            send_link,
            current.db,
            email.value or "",
            base_url=current.settings.public_url,
            ip_address=address,
            clock=current.clock,
        )
        # A link for a login takes a few more writes than nothing for an unknown address: the answer
        # comes after the same time either way, so its timing does not tell which it was.
        await asyncio.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
        card.clear()
        with card:
            ui.icon("mark_email_read").classes("text-4xl text-positive")
            ui.label(sent).classes("text-sm").mark(f"{mark}-sent")
            ui.link(_("Back to sign in"), "/login").classes("text-primary")

    error = ui.label().classes("text-sm text-negative")
    button = ui.button(_("Send link"), on_click=send).props("unelevated no-caps size=lg").classes("w-full")
    button.mark(f"{mark}-send")
    ui.link(_("Back to sign in"), "/login").classes("text-sm text-primary self-center")


@ui.page("/set-password")
async def set_password_page(token: str = "") -> None:
    current = portal.current()
    await _header(_("Set your password"))
    try:
        info = await io_bound(check_token, current.db, token, clock=current.clock)
    except InvalidToken as problem:
        with _public_card(_("This link cannot be used")):
            ui.label(human_message(problem)).classes("text-sm").mark("token-problem")
            ui.link(_("Forgot password? Get a new link"), "/forgot-password").classes("text-primary")
            ui.link(_("Sign in"), "/login").classes("text-primary")
        return
    heading = _("Welcome! Choose a password") if info.purpose == "invite" else _("Choose a new password")
    with _public_card(heading) as card:
        ui.label(_("For {email}").format(email=info.email)).classes("text-sm text-grey-8")
        fields = NewPasswordFields(email=info.email, name=info.name)
        error = ui.label().classes("text-sm text-negative").mark("set-password-error")

        async def save() -> None:
            new, confirm = fields.values
            button.props("loading")
            error.text = ""
            try:
                await io_bound(
                    set_password,
                    current.db,
                    token,
                    new,
                    confirm,
                    clock=current.clock,
                    rounds=current.settings.bcrypt_rounds,
                    events=current.events,
                )
            except DomainError as problem:
                error.text = human_message(problem, now=current.clock())
                return
            finally:
                button.props(remove="loading")
            card.clear()
            with card:
                ui.icon("check_circle").classes("text-4xl text-positive")
                ui.label(_("Your password is set. Sign in with it now.")).classes("text-sm").mark(
                    "password-set"
                )
                ui.button(_("Sign in"), on_click=lambda: ui.navigate.to(f"/login?email={info.email}")).props(
                    "unelevated no-caps"
                )

        button = (
            ui.button(_("Set password"), on_click=save).props("unelevated no-caps size=lg").classes("w-full")
        )
        button.mark("set-password-save")
