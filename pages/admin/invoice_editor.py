"""The draft editor: /admin/invoices/new (?client=...&kind=retainer) and /admin/invoices/{public_id}/edit.

Client, kind, dates, line items with totals computed live by ``services.totals``, notes and terms;
"Save as draft" writes it. Only drafts are edited: a sent invoice's edit address says so.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import HTTPException, Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.document_editor import (
    NOT_SAVED,
    ClientField,
    EditorContext,
    NotesAndTerms,
    date_input,
    field_error,
    line_text,
    load_editor_context,
    parse_day,
    save_document,
    show_failure,
)
from components.line_items import LineItems
from components.offload import io_bound
from components.url_params import UrlParams
from models import InvoiceKind
from services import portal
from services.business_documents import InvoiceView
from services.draft_invoices import create_draft, editable_draft, update_draft
from services.errors import InvalidStatusChange, NotFound
from services.i18n import N_, _
from services.staff_auth import StaffPrincipal

KINDS = {InvoiceKind.INVOICE.value: N_("Invoice"), InvoiceKind.RETAINER.value: N_("Retainer invoice")}


@ui.page("/admin/invoices/new")
async def new_invoice_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    url = UrlParams(request.query_params)
    kind = url.choice("kind", KINDS, InvoiceKind.INVOICE.value)
    context = await load_editor_context(staff)
    title = _("New retainer invoice") if kind == InvoiceKind.RETAINER else _("New invoice")
    with admin_frame(title, branding=context.branding, staff=staff, active="/admin/invoices"):
        defaults = context.defaults
        DraftForm(
            current,
            staff,
            context,
            invoice=None,
            client_public_id=url.text("client", max_length=40),
            kind=kind,
            issue_date=defaults.issue_date,
            due_date=defaults.due_date,
            notes=defaults.notes,
            terms=defaults.terms,
        )


@ui.page("/admin/invoices/{public_id}/edit")
async def edit_invoice_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        invoice = await io_bound(editable_draft, current.db, staff.organization_id, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This invoice does not exist.")) from None
    except InvalidStatusChange as refused:
        branding = await business_branding(current.db)
        with admin_frame(
            _("Invoice {number}").format(number=refused.number),
            branding=branding,
            staff=staff,
            active="/admin/invoices",
        ):
            banner(
                "warning",
                _(
                    "Invoice {number} is {replace}: only drafts can be edited. A sent invoice stays as the "
                    "customer received it; void it and make a new one instead."
                ).format(number=refused.number, replace=refused.status.replace("_", " ")),
            )
            ui.link(_("Back to the invoice"), f"/admin/invoices/{public_id}").classes("text-primary")
        return
    context = await load_editor_context(staff, invoice.lines)
    title = (
        _("Edit retainer invoice {number}")
        if invoice.kind == InvoiceKind.RETAINER
        else _("Edit invoice {number}")
    ).format(number=invoice.number)
    with admin_frame(title, branding=context.branding, staff=staff, active="/admin/invoices"):
        DraftForm(
            current,
            staff,
            context,
            invoice=invoice,
            client_public_id=invoice.client_public_id,
            kind=invoice.kind,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            notes=invoice.notes,
            terms=invoice.terms,
        )


class DraftForm:
    """The editor's fields; "Save as draft" creates the draft or replaces the one being edited."""

    def __init__(
        self,
        current: portal.Portal,
        staff: StaffPrincipal,
        context: EditorContext,
        *,
        invoice: InvoiceView | None,
        client_public_id: str,
        kind: str,
        issue_date: date,
        due_date: date,
        notes: str,
        terms: str,
    ) -> None:
        self.current = current
        self.staff = staff
        self.invoice = invoice
        self.terms_days = context.defaults.payment_terms_days
        self.due_changed_by_hand = invoice is not None
        locale = self.locale = context.branding.locale
        with ui.card().classes("w-full gap-4").props("flat bordered"):
            with ui.row().classes("w-full items-start gap-4 max-sm:flex-col"):
                self.client = ClientField(context.clients, client_public_id)
                with ui.column().classes("gap-1"):
                    ui.label(_("Kind")).classes("text-xs text-grey-7")
                    self.kind = (
                        ui.toggle({value: _(label) for value, label in KINDS.items()}, value=kind)
                        .props("no-caps dense unelevated")
                        .mark("kind")
                    )
                    if invoice is not None:
                        self.kind.disable()  # the number series follows the kind, so it is fixed
            with ui.row().classes("w-full items-start gap-4"):
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.issue_date = date_input(_("Issue date"), issue_date, "issue-date")
                    self.issue_error = field_error("issue-date-error")
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.due_date = date_input(_("Due date"), due_date, "due-date")
                    self.due_error = field_error("due-date-error")
                ui.label(_("Payment terms: {terms_days} days").format(terms_days=self.terms_days)).classes(
                    "text-sm text-grey-7 pt-3"
                )
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label(_("Items")).classes("text-lg font-medium")
            self.items = LineItems(
                currency=self.client.currency(),
                locale=locale,
                choices=context.choices,
                default_tax=context.default_tax,
                lines=[line_text(line, context.choices, invoice.currency, locale) for line in invoice.lines]
                if invoice
                else (),
            )
        self.texts = NotesAndTerms(notes, terms)
        self.message = ui.column().classes("w-full")
        with ui.row().classes("w-full gap-2 items-center"):
            self.save_button = ui.button(_("Save as draft"), icon="save", on_click=self.save).props(
                "unelevated no-caps"
            )
            back = f"/admin/invoices/{invoice.public_id}" if invoice else "/admin/invoices"
            ui.button(_("Cancel"), on_click=lambda: ui.navigate.to(back)).props("flat no-caps")
        self.client.select.on_value_change(lambda _: self._client_changed())
        self.issue_date.on_value_change(lambda _: self._issue_changed())
        self.due_date.on("update:model-value", lambda _: self._due_typed())
        self._client_changed()

    def _client_changed(self) -> None:
        self.client.show_currency()
        self.items.set_currency(self.client.currency())

    def _issue_changed(self) -> None:
        issued = parse_day(self.issue_date.value)
        if issued is not None and not self.due_changed_by_hand:
            self.due_date.value = (issued + timedelta(days=self.terms_days)).isoformat()

    def _due_typed(self) -> None:
        self.due_changed_by_hand = True

    async def save(self) -> None:
        self.message.clear()
        for label in (self.client.error, self.issue_error, self.due_error):
            label.text = ""
        issued, due = parse_day(self.issue_date.value), parse_day(self.due_date.value)
        lines = self.items.lines()
        if issued is None:
            self.issue_error.text = _("Enter the issue date.")
        if due is None:
            self.due_error.text = _("Enter the due date.")
        if not self.client.value:
            self.client.error.text = _("Choose a client.")
        if issued is None or due is None or lines is None or not self.client.value:
            show_failure(self.message, _(NOT_SAVED))
            return
        fields = {
            "client_public_id": self.client.value,
            "issue_date": issued,
            "due_date": due,
            "lines": lines,
            "notes": str(self.texts.notes.value or ""),
            "terms": str(self.texts.terms.value or ""),
        }
        db, organization_id = self.current.db, self.staff.organization_id
        invoice = self.invoice

        async def save() -> InvoiceView:
            if invoice is None:
                kind = InvoiceKind(self.kind.value)
                return await io_bound(
                    create_draft, db, organization_id, kind=kind, clock=self.current.clock, **fields
                )
            return await io_bound(update_draft, db, organization_id, invoice.public_id, **fields)

        saved = await save_document(
            save,
            button=self.save_button,
            message=self.message,
            items=self.items,
            fields={"client": self.client.error, "issue_date": self.issue_error, "due_date": self.due_error},
            locale=self.locale,
        )
        if saved is not None:
            ui.navigate.to(f"/admin/invoices/{saved.public_id}?done=saved")
