"""Settings > Business: whether customers may sign in by a link sent by e-mail."""

from __future__ import annotations

from nicegui import ui

from components.banner import banner
from components.offload import io_bound
from services import portal
from services.errors import DomainError, human_message
from services.i18n import _
from services.sign_in_links import allow_sign_in_links
from services.staff_auth import StaffPrincipal


class SignInLinksCard:
    """A switch for "E-mail me a sign-in link" on the customers' sign-in page; turned off, links already
    sent stop working at once."""

    def __init__(self, current: portal.Portal, owner: StaffPrincipal, allowed: bool) -> None:
        self.current, self.owner, self.stored = current, owner, allowed
        with ui.card().classes("w-full gap-2 p-5").props("flat bordered"):
            ui.label(_("Customers' sign-in")).classes("text-lg font-semibold")
            self.switch = ui.switch(_("Customers may sign in by a link sent by e-mail"), value=allowed)
            self.switch.mark("sign-in-links-switch")
            ui.label(
                _(
                    "A link works once, for 15 minutes; with two-factor sign-in on, "
                    "the code is still asked for."
                )
            ).classes("text-sm text-grey-7")
            self.notice = ui.column().classes("w-full gap-2")
        self.switch.on_value_change(self.change)

    async def change(self) -> None:
        wanted = bool(self.switch.value)
        if wanted == self.stored:  # put back after a refusal
            return
        self.notice.clear()
        try:
            await io_bound(allow_sign_in_links, self.current.db, self.owner, wanted, clock=self.current.clock)
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            self.switch.set_value(self.stored)
            return
        self.stored = wanted
        with self.notice:
            text = _("Customers can now ask for a sign-in link.") if wanted else _("Sign-in links are off.")
            banner("positive", text)
