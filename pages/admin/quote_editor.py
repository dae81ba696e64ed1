"""The quote editor: /admin/quotes/new (?client=...) and /admin/quotes/{public_id}/edit.

Client, issue and valid-until dates, the deposit asked on acceptance, line items with totals computed
live (the invoice editor's ``components.line_items``), notes and terms; "Save as draft" writes it. Only
drafts are edited: a sent quote's edit address says so.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

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
from services import portal
from services.amount_input import number_text, read_number
from services.errors import (
    InvalidNumber,
    InvalidStatusChange,
    NotFound,
    human_message,
)
from services.i18n import _
from services.quote_documents import QuoteDocument
from services.quotes import create_quote, editable_quote, update_quote
from services.staff_auth import StaffPrincipal
from services.totals import HUNDRED

VALID_DAYS = 30  # a new quote's valid-until day, after its issue date


@ui.page("/admin/quotes/new")
async def new_quote_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    context = await load_editor_context(staff)
    today = context.defaults.issue_date
    with admin_frame(_("New quote"), branding=context.branding, staff=staff, active="/admin/quotes"):
        QuoteForm(
            current,
            staff,
            context,
            quote=None,
            client_public_id=UrlParams(request.query_params).text("client", max_length=40),
            issue_date=today,
            valid_until=today + timedelta(days=VALID_DAYS),
            deposit_percent=Decimal(0),
            notes=context.defaults.notes,
            terms=context.defaults.terms,
        )


@ui.page("/admin/quotes/{public_id}/edit")
async def edit_quote_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        quote = await io_bound(
            editable_quote, current.db, staff.organization_id, public_id, now=current.clock()
        )
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This quote does not exist.")) from None
    except InvalidStatusChange as refused:
        branding = await business_branding(current.db)
        title = _("Quote {number}").format(number=refused.number)
        with admin_frame(title, branding=branding, staff=staff, active="/admin/quotes"):
            banner(
                "warning",
                _("Quote {number} was sent: only drafts can be edited. Write a new quote instead.").format(
                    number=refused.number
                ),
            )
            ui.link(_("Back to the quote"), f"/admin/quotes/{public_id}").classes("text-primary")
        return
    context = await load_editor_context(staff, quote.line_inputs)
    title = _("Edit quote {number}").format(number=quote.number)
    with admin_frame(title, branding=context.branding, staff=staff, active="/admin/quotes"):
        QuoteForm(
            current,
            staff,
            context,
            quote=quote,
            client_public_id=quote.client_public_id,
            issue_date=quote.issue_date,
            valid_until=quote.valid_until,
            deposit_percent=quote.deposit_percent,
            notes=quote.notes,
            terms=quote.terms,
        )


class QuoteForm:
    """The editor's fields; "Save as draft" creates the quote or replaces the draft being edited."""

    def __init__(
        self,
        current: portal.Portal,
        staff: StaffPrincipal,
        context: EditorContext,
        *,
        quote: QuoteDocument | None,
        client_public_id: str,
        issue_date: date,
        valid_until: date,
        deposit_percent: Decimal,
        notes: str,
        terms: str,
    ) -> None:
        self.current = current
        self.staff = staff
        self.quote = quote
        locale = self.locale = context.branding.locale
        with ui.card().classes("w-full gap-4").props("flat bordered"):
            with ui.row().classes("w-full items-start gap-4 max-sm:flex-col"):
                self.client = ClientField(context.clients, client_public_id)
            with ui.row().classes("w-full items-start gap-4"):
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.issue_date = date_input(_("Issue date"), issue_date, "issue-date")
                    self.issue_error = field_error("issue-date-error")
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.valid_until = date_input(_("Valid until"), valid_until, "valid-until")
                    self.valid_error = field_error("valid-until-error")
                with ui.column().classes("gap-0 w-full sm:w-56"):
                    self.deposit = (
                        ui.input(
                            _("Deposit on acceptance (%)"),
                            value=number_text(deposit_percent, locale) if deposit_percent else "",
                        )
                        .props("outlined dense inputmode=decimal input-class=text-end")
                        .classes("w-full")
                        .mark("deposit")
                    )
                    self.deposit_error = field_error("deposit-error")
            ui.label(
                _(
                    "Without a deposit, the accepted quote becomes an invoice for its total. With one, it "
                    "becomes a retainer invoice for that share of the total."
                )
            ).classes("text-sm text-grey-7")
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label(_("Items")).classes("text-lg font-medium")
            self.items = LineItems(
                currency=self.client.currency(),
                locale=locale,
                choices=context.choices,
                default_tax=context.default_tax,
                lines=[
                    line_text(line, context.choices, quote.total.currency, locale)
                    for line in quote.line_inputs
                ]
                if quote
                else (),
            )
        self.texts = NotesAndTerms(notes, terms)
        self.message = ui.column().classes("w-full")
        with ui.row().classes("w-full gap-2 items-center"):
            self.save_button = (
                ui.button(_("Save as draft"), icon="save", on_click=self.save)
                .props("unelevated no-caps")
                .mark("save-quote")
            )
            back = f"/admin/quotes/{quote.public_id}" if quote else "/admin/quotes"
            ui.button(_("Cancel"), on_click=lambda: ui.navigate.to(back)).props("flat no-caps")
        self.client.select.on_value_change(lambda _: self._client_changed())
        self._client_changed()

    def _client_changed(self) -> None:
        self.client.show_currency()
        self.items.set_currency(self.client.currency())

    def _read_deposit(self) -> Decimal | None:
        text = str(self.deposit.value or "").strip() or "0"
        try:
            return read_number(text, self.locale, field="deposit", decimals=4, most=HUNDRED)
        except InvalidNumber as error:
            self.deposit_error.text = human_message(error, locale=self.locale)
            return None

    async def save(self) -> None:
        self.message.clear()
        for label in (self.client.error, self.issue_error, self.valid_error, self.deposit_error):
            label.text = ""
        issued, valid_until = parse_day(self.issue_date.value), parse_day(self.valid_until.value)
        lines = self.items.lines()
        deposit = self._read_deposit()
        if issued is None:
            self.issue_error.text = _("Enter the issue date.")
        if valid_until is None:
            self.valid_error.text = _("Enter the last day the quote can be accepted.")
        if not self.client.value:
            self.client.error.text = _("Choose a client.")
        if issued is None or valid_until is None or lines is None or deposit is None or not self.client.value:
            show_failure(self.message, _(NOT_SAVED))
            return
        fields = {
            "client_public_id": self.client.value,
            "issue_date": issued,
            "valid_until": valid_until,
            "deposit_percent": deposit,
            "lines": lines,
            "notes": str(self.texts.notes.value or ""),
            "terms": str(self.texts.terms.value or ""),
            "staff_user_id": self.staff.staff_user_id,
            "clock": self.current.clock,
        }
        db, organization_id = self.current.db, self.staff.organization_id
        quote = self.quote

        async def save() -> str:
            if quote is None:
                return await io_bound(create_quote, db, organization_id, **fields)
            return await io_bound(update_quote, db, organization_id, quote.public_id, **fields)

        errors = {
            "client": self.client.error,
            "issue_date": self.issue_error,
            "valid_until": self.valid_error,
            "deposit": self.deposit_error,
        }
        public_id = await save_document(
            save,
            button=self.save_button,
            message=self.message,
            items=self.items,
            fields=errors,
            locale=self.locale,
        )
        if public_id is not None:
            ui.navigate.to(f"/admin/quotes/{public_id}?done=saved")
