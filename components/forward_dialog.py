"""The Forward dialog: e-mail an invoice with its PDF to one or more addresses."""

from __future__ import annotations

from nicegui import ui

from components.headings import dialog_title
from components.offload import io_bound
from services.errors import DomainError, human_message
from services.forwarding import MAX_NOTE_LENGTH, MAX_RECIPIENTS, forward_invoice, split_addresses
from services.i18n import _
from services.portal import Portal
from services.principal import Principal


class ForwardDialog:
    def __init__(self, portal: Portal, principal: Principal, public_id: str, number: str) -> None:
        self.portal = portal
        self.principal = principal
        self.public_id = public_id
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6"):
            dialog_title(self.dialog, _("Forward invoice {number}").format(number=number))
            ui.label(_("We e-mail the invoice with its PDF attached.")).classes("text-sm text-grey-7")
            self.to = (
                ui.input(_("To"), placeholder=_("name@example.com, other@example.com"))
                .props("outlined autofocus type=email multiple")
                .classes("w-full")
                .mark("forward-to")
            )
            ui.label(
                _("Up to {MAX_RECIPIENTS} addresses, separated by commas.").format(
                    MAX_RECIPIENTS=MAX_RECIPIENTS
                )
            ).classes("text-xs text-grey-7 -mt-2")
            self.note = (
                ui.textarea(_("Message (optional)"))
                .props(f"outlined autogrow counter maxlength={MAX_NOTE_LENGTH}")
                .classes("w-full")
                .mark("forward-note")
            )
            self.error = ui.label().classes("text-sm text-negative")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.send = (
                    ui.button(_("Send"), icon="forward_to_inbox", on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("forward-send")
                )

    def open(self) -> None:
        self.error.text = ""
        self.dialog.open()

    async def submit(self) -> None:
        self.send.props("loading")
        self.error.text = ""
        try:
            receipt = await io_bound(
                forward_invoice,
                self.portal.db,
                self.principal,
                self.public_id,
                recipients=split_addresses(self.to.value or ""),
                note=self.note.value or "",
                today=self.portal.clock().date(),
                base_url=self.portal.settings.public_url,
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, now=self.portal.clock())
            return
        finally:
            self.send.props(remove="loading")
        self.to.value = ""
        self.note.value = ""
        self.dialog.close()
        ui.notify(_("Invoice sent to {list}.").format(list=", ".join(receipt.recipients)), type="positive")
