"""One invoice as the business sees it (/admin/invoices/{public_id}): the document, its status and
comment count, and what can be done with it: Edit and Send a draft, Void an open one, Revoke the pay
links its e-mails carried, Download PDF."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from nicegui import ui

# Imported before this module's page: /admin/invoices/new must be matched before /admin/invoices/{public_id}.
import pages.admin.invoice_editor  # noqa: F401
from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.confirmation import confirmation
from components.dialog_host import DialogHost
from components.invoice_document import invoice_document
from components.offload import io_bound
from components.status import status_badge
from components.url_params import UrlParams
from services import business_documents, portal
from services.business_documents import InvoiceSheet, invoice_sheet
from services.errors import DomainError, InvalidDetails, NotFound, human_message
from services.events import client_documents_topic
from services.i18n import N_, _, ngettext
from services.money import format_money
from services.pay_links import live_pay_links, revoke_pay_links
from services.staff_auth import StaffPrincipal

DONE = {
    "saved": N_("The draft was saved."),
    "sent": N_(
        "The invoice was sent: the customer sees it in the portal and gets an e-mail with a link to it."
    ),
    "voided": N_("The invoice was voided. The customer no longer owes it."),
    "links-revoked": N_(
        "The invoice's pay links were revoked: they no longer open it. The customer can still pay it in "
        "the portal."
    ),
}


@ui.page("/admin/invoices/{public_id}")
async def invoice_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        sheet = await io_bound(
            invoice_sheet, current.db, staff.organization_id, public_id, today=current.clock().date()
        )
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This invoice does not exist.")) from None
    branding = await business_branding(current.db)
    links = await io_bound(live_pay_links, current.db, staff.organization_id, public_id, clock=current.clock)
    document = sheet.document
    with admin_frame(
        _("{title} {number}").format(title=document.title, number=document.number),
        branding=branding,
        staff=staff,
        active="/admin/invoices",
    ):
        done = DONE.get(UrlParams(request.query_params).choice("done", DONE, ""))
        if done:
            banner("positive", _(done))
        InvoiceActions(current, staff, sheet, links)
        invoice_document(document)


class InvoiceActions:
    """The toolbar: status, client, balance, comment count, and the actions the status allows."""

    def __init__(
        self, current: portal.Portal, staff: StaffPrincipal, sheet: InvoiceSheet, pay_links: int
    ) -> None:
        self.current = current
        self.staff = staff
        self.sheet = sheet
        document = sheet.document
        self.dialogs = DialogHost()
        with ui.row().classes("w-full items-center gap-3 -mt-4"):
            ui.link(_("← Invoices"), "/admin/invoices").classes("text-primary no-underline")
            status_badge(document.status_label).mark("invoice-status")
            ui.label(sheet.client_name).classes("font-medium").mark("invoice-client")
            count = sheet.comment_count
            comments = ngettext("{count} comment", "{count} comments", count).format(count=count)
            ui.label(comments).classes("text-sm text-grey-7").mark("comment-count")
            ui.space()
            ui.label(
                _("Balance Due {amount}").format(amount=format_money(document.balance_due, document.locale))
            ).classes("text-lg font-semibold").mark("balance-due")
        with ui.row().classes("w-full items-center gap-2"):
            if sheet.is_draft:
                ui.button(
                    _("Edit"),
                    icon="edit",
                    on_click=lambda: ui.navigate.to(f"/admin/invoices/{document.public_id}/edit"),
                ).props("outline no-caps")
                ui.button(_("Send"), icon="send", on_click=self._confirm_send).props("unelevated no-caps")
            if sheet.can_void:
                ui.button(_("Void"), icon="block", on_click=self._confirm_void).props(
                    "outline no-caps color=negative"
                )
            if pay_links:  # links sent in its e-mails that still open it
                ui.button(_("Revoke pay links"), icon="link_off", on_click=self._confirm_revoke).props(
                    "outline no-caps"
                ).mark("revoke-pay-links")
            pdf = f"/admin/invoices/{document.public_id}/pdf?download=1"
            ui.button(_("Download PDF"), icon="download", on_click=lambda: ui.navigate.to(pdf)).props(
                "flat no-caps"
            )
        self.message = ui.column().classes("w-full")

    def _confirm_send(self) -> None:
        number = self.sheet.document.number
        self.dialogs.show(
            lambda: confirmation(
                _("Send invoice {number}?").format(number=number),
                _(
                    "The customer sees it in the portal from now on and gets an e-mail with a link to it. "
                    "A sent invoice can no longer be edited."
                ),
                _("Send invoice"),
                self._send,
            )
        )

    def _confirm_void(self) -> None:
        number = self.sheet.document.number
        self.dialogs.show(
            lambda: confirmation(
                _("Void invoice {number}?").format(number=number),
                _(
                    "The invoice stays on record, marked void, and the customer no longer owes it. "
                    "This cannot be undone."
                ),
                _("Void invoice"),
                self._void,
                color="negative",
            )
        )

    def _confirm_revoke(self) -> None:
        number = self.sheet.document.number
        self.dialogs.show(
            lambda: confirmation(
                _("Revoke the pay links of invoice {number}?").format(number=number),
                _(
                    "The links sent in this invoice's e-mails stop working at once: whoever opens one is "
                    "told it was withdrawn and can pay nothing through it. The customer can still pay in "
                    "the portal, and the invoice's next e-mail carries a new link."
                ),
                _("Revoke links"),
                self._revoke,
                color="negative",
            )
        )

    async def _revoke(self) -> None:
        await self._act(
            "links-revoked",
            revoke_pay_links,
            staff_user_id=self.staff.staff_user_id,
            clock=self.current.clock,
        )

    async def _send(self) -> None:
        current = self.current
        await self._act(
            "sent",
            business_documents.send_invoice,
            base_url=current.settings.public_url,
            clock=current.clock,
        )

    async def _void(self) -> None:
        await self._act("voided", business_documents.void_invoice, clock=self.current.clock)

    async def _act(self, done: str, action: Callable[..., object], **kwargs: object) -> None:
        public_id = self.sheet.document.public_id
        try:
            await io_bound(action, self.current.db, self.staff.organization_id, public_id, **kwargs)
        except InvalidDetails as error:
            self._fail(" ".join(error.errors.values()) or human_message(error))
            return
        except DomainError as error:
            self._fail(human_message(error))
            return
        self.current.events.publish(client_documents_topic(self.sheet.client_public_id))
        ui.navigate.to(f"/admin/invoices/{public_id}?done={done}")

    def _fail(self, text: str) -> None:
        self.message.clear()
        with self.message:
            banner("negative", text)
