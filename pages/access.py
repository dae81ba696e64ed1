"""Getting in without a password: Forgot password? (a reset link by e-mail) and the page a link opens
to set a password (an invitation or a reset). Both are open to anyone; the token is the key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from components.frame import business_mark, demo_banner
from components.offload import io_bound
from components.password_fields import NewPasswordFields
from components.theme import apply_theme
from services import portal
from services.branding import get_branding
from services.errors import DomainError, InvalidToken, human_message
from services.invitations import check_token, request_password_reset, set_password

RESET_ANSWER_SECONDS = 0.5  # far longer than the request takes, however it ends
RESET_SENT = (
    "If that address belongs to a portal login, a link to set a new password is on its way. "
    "It works once, for one hour. Check your spam folder if it does not arrive."
)


@contextmanager
def _public_card(title: str) -> Iterator[ui.card]:
    with (
        ui.column().classes("w-full min-h-[80vh] items-center justify-center p-4"),
        ui.card().classes("w-full max-w-sm p-6 gap-4").props("flat bordered") as card,
    ):
        ui.label(title).classes("text-xl font-semibold")
        yield card


async def _header(title: str) -> None:
    branding = await io_bound(get_branding, portal.current().db)
    apply_theme()
    ui.page_title(f"{title} · {branding.name}")
    if branding.is_demo:
        demo_banner()
    with ui.row().classes("w-full justify-center pt-6"):
        business_mark(branding, large=True)


@ui.page("/forgot-password")
async def forgot_password_page(request: Request) -> None:
    current = portal.current()
    address = client_address(request)
    await _header("Forgot password?")
    with _public_card("Forgot password?") as card:
        ui.label("Enter your e-mail address and we send you a link to set a new password.").classes(
            "text-sm text-grey-8"
        )
        email = ui.input("Email").props("type=email autocomplete=username outlined autofocus maxlength=254")
        email.classes("w-full").mark("reset-email")

        async def send() -> None:
            if "@" not in (email.value or ""):
                error.text = "Enter the e-mail address you sign in with."
                return
            button.props("loading")
            started = time.monotonic()
            await io_bound(
                request_password_reset,
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
                ui.label(RESET_SENT).classes("text-sm").mark("reset-sent")
                ui.link("Back to sign in", "/login").classes("text-primary")

        error = ui.label().classes("text-sm text-negative")
        button = ui.button("Send link", on_click=send).props("unelevated no-caps size=lg").classes("w-full")
        button.mark("reset-send")
        ui.link("Back to sign in", "/login").classes("text-sm text-primary self-center")


@ui.page("/set-password")
async def set_password_page(token: str = "") -> None:
    current = portal.current()
    await _header("Set your password")
    try:
        info = await io_bound(check_token, current.db, token, clock=current.clock)
    except InvalidToken as problem:
        with _public_card("This link cannot be used"):
            ui.label(human_message(problem)).classes("text-sm").mark("token-problem")
            ui.link("Forgot password? Get a new link", "/forgot-password").classes("text-primary")
            ui.link("Sign in", "/login").classes("text-primary")
        return
    heading = "Welcome! Choose a password" if info.purpose == "invite" else "Choose a new password"
    with _public_card(heading) as card:
        ui.label(f"For {info.email}").classes("text-sm text-grey-8")
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
                ui.label("Your password is set. Sign in with it now.").classes("text-sm").mark("password-set")
                ui.button("Sign in", on_click=lambda: ui.navigate.to(f"/login?email={info.email}")).props(
                    "unelevated no-caps"
                )

        button = (
            ui.button("Set password", on_click=save).props("unelevated no-caps size=lg").classes("w-full")
        )
        button.mark("set-password-save")
