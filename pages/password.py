"""Change Password: old password, new password, re-enter, Save. Other sessions are signed out.

Below it, two-factor sign-in: turn it on with an authenticator app, new recovery codes, turn it off.
"""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from components.branding import business_branding
from components.frame import frame
from components.offload import io_bound
from components.password_fields import NewPasswordFields, current_password_field
from components.two_factor import TwoFactorPanel
from services import portal
from services.errors import DomainError, human_message
from services.i18n import _
from services.password_change import change_password
from services.principal import Principal


@ui.page("/password")
async def password_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    branding = await business_branding(current.db)
    address = client_address(request)
    with (
        frame(_("Change Password"), branding=branding, principal=principal, active="/password"),
        ui.card().classes("w-full max-w-lg p-6 gap-3").props("flat bordered") as card,
    ):
        old = current_password_field()
        fields = NewPasswordFields(email=principal.email, name=principal.name)
        error = ui.label().classes("text-sm text-negative").mark("password-error")

        async def save() -> None:
            new, confirm = fields.values
            button.props("loading")
            error.text = ""
            try:
                changed = await io_bound(
                    change_password,
                    current.db,
                    principal,
                    old.value or "",
                    new,
                    confirm,
                    ip_address=address,
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
                ui.icon("lock_reset").classes("text-4xl text-positive")
                ui.label(_("Your password is changed.")).classes("text-lg font-semibold").mark(
                    "password-changed"
                )
                signed_out = changed.other_sessions_signed_out
                ui.label(
                    (
                        f"{signed_out} other session{'s were' if signed_out != 1 else ' was'} signed out. "
                        if signed_out
                        else ""
                    )
                    + f"A notice went to {changed.notice_sent_to}."
                ).classes("text-sm text-grey-8")

        button = ui.button(_("Save"), on_click=save).props("unelevated no-caps").mark("password-save")
    assert card.parent_slot is not None  # noqa: S101 - the frame's content holds the card
    with card.parent_slot:  # beside the password card, in the frame's content
        two_factor = TwoFactorPanel(principal, ip_address=address)
    await two_factor.reload()
