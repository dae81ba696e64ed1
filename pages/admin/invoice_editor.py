"""The draft editor: /admin/invoices/new (?client=...&kind=retainer) and /admin/invoices/{public_id}/edit.

Client, kind, dates, line items with totals computed live by ``services.totals``, notes and terms;
"Save as draft" writes it. Only drafts are edited: a sent invoice's edit address says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fastapi import HTTPException, Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.line_items import NO_TAX, LineItems, LineText, TaxChoice, saved_tax_choice, tax_choices
from components.offload import io_bound
from components.url_params import UrlParams
from models import InvoiceKind
from services import portal
from services.amount_input import amount_text, number_text
from services.branding import Branding, get_branding
from services.business_documents import InvoiceView, LineView
from services.clients import ClientView, list_clients
from services.draft_invoices import DraftDefaults, create_draft, draft_defaults, editable_draft, update_draft
from services.errors import DomainError, InvalidDetails, InvalidStatusChange, NotFound, human_message
from services.i18n import N_, _
from services.money import Money
from services.staff_auth import StaffPrincipal
from services.tax_rates import list_tax_rates

KINDS = {InvoiceKind.INVOICE.value: N_("Invoice"), InvoiceKind.RETAINER.value: N_("Retainer invoice")}
MAX_CLIENTS_OFFERED = 2000


@ui.page("/admin/invoices/new")
async def new_invoice_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    url = UrlParams(request.query_params)
    kind = url.choice("kind", KINDS, InvoiceKind.INVOICE.value)
    context = await _load(staff, None)
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
        branding = await io_bound(get_branding, current.db)
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
    context = await _load(staff, invoice)
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


@dataclass(frozen=True)
class _Context:
    branding: Branding
    clients: list[ClientView]
    choices: list[TaxChoice]
    default_tax: str
    defaults: DraftDefaults


async def _load(staff: StaffPrincipal, invoice: InvoiceView | None) -> _Context:
    current = portal.current()
    branding = await io_bound(get_branding, current.db)
    clients = await io_bound(_all_clients, staff.organization_id)
    rates = await io_bound(list_tax_rates, current.db, staff.organization_id)
    defaults = await io_bound(draft_defaults, current.db, staff.organization_id, today=current.clock().date())
    choices = tax_choices(rates)
    for line in invoice.lines if invoice else ():
        if line.tax_rate_percent and _choice_for(choices, line.tax_name, line.tax_rate_percent) is None:
            choices.append(saved_tax_choice(line.tax_name, line.tax_rate_percent))
    default = next((rate.public_id for rate in rates if rate.is_default), NO_TAX)
    return _Context(branding, clients, choices, default, defaults)


def _all_clients(organization_id: int) -> list[ClientView]:
    db = portal.current().db
    clients: list[ClientView] = []
    after: int | None = None
    while len(clients) < MAX_CLIENTS_OFFERED:
        page = list_clients(db, organization_id, after_id=after, limit=100)
        clients += page.clients
        if page.next_after_id is None:
            break
        after = page.next_after_id
    return sorted(clients, key=lambda client: client.display_name.lower())


def _choice_for(choices: list[TaxChoice], name: str, rate: Decimal) -> TaxChoice | None:
    return next((c for c in choices if c.name == name and c.rate_percent == rate), None)


class DraftForm:
    """The editor's fields; "Save as draft" creates the draft or replaces the one being edited."""

    def __init__(
        self,
        current: portal.Portal,
        staff: StaffPrincipal,
        context: _Context,
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
        self.currencies = {client.public_id: client.currency for client in context.clients}
        self.due_changed_by_hand = invoice is not None
        client_options = {client.public_id: client.display_name for client in context.clients}
        chosen = client_public_id if client_public_id in client_options else None
        locale = self.locale = context.branding.locale
        with ui.card().classes("w-full gap-4").props("flat bordered"):
            with ui.row().classes("w-full items-start gap-4 max-sm:flex-col"):
                with ui.column().classes("gap-0 w-full sm:w-80"):
                    self.client = (
                        ui.select(client_options, value=chosen, label=_("Client"), with_input=True)
                        .props("outlined dense options-dense")
                        .classes("w-full")
                        .mark("client")
                    )
                    self.currency = ui.label().classes("text-sm text-grey-8 pt-1").mark("client-currency")
                    self.client_error = _field_error("client-error")
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
                    self.issue_date = _date_input(_("Issue date"), issue_date, "issue-date")
                    self.issue_error = _field_error("issue-date-error")
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.due_date = _date_input(_("Due date"), due_date, "due-date")
                    self.due_error = _field_error("due-date-error")
                ui.label(_("Payment terms: {terms_days} days").format(terms_days=self.terms_days)).classes(
                    "text-sm text-grey-7 pt-3"
                )
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label(_("Items")).classes("text-lg font-medium")
            self.items = LineItems(
                currency=self._currency(),
                locale=locale,
                choices=context.choices,
                default_tax=context.default_tax,
                lines=[_line_text(line, context.choices, invoice.currency, locale) for line in invoice.lines]
                if invoice
                else (),
            )
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            with ui.row().classes("w-full gap-4 max-md:flex-col"):
                self.notes = (
                    ui.textarea(_("Notes"), value=notes)
                    .props("outlined autogrow maxlength=5000")
                    .classes("flex-1 w-full")
                    .mark("notes")
                )
                self.terms = (
                    ui.textarea(_("Terms"), value=terms)
                    .props("outlined autogrow maxlength=5000")
                    .classes("flex-1 w-full")
                    .mark("terms")
                )
        self.message = ui.column().classes("w-full")
        with ui.row().classes("w-full gap-2 items-center"):
            self.save_button = ui.button(_("Save as draft"), icon="save", on_click=self.save).props(
                "unelevated no-caps"
            )
            back = f"/admin/invoices/{invoice.public_id}" if invoice else "/admin/invoices"
            ui.button(_("Cancel"), on_click=lambda: ui.navigate.to(back)).props("flat no-caps")
        self.client.on_value_change(lambda _: self._client_changed())
        self.issue_date.on_value_change(lambda _: self._issue_changed())
        self.due_date.on("update:model-value", lambda _: self._due_typed())
        self._client_changed()

    def _currency(self) -> str:
        return self.currencies.get(str(self.client.value or ""), "") or "USD"

    def _client_changed(self) -> None:
        chosen = str(self.client.value or "")
        self.currency.text = (
            _("Currency: {currency}").format(currency=self.currencies[chosen])
            if chosen in self.currencies
            else ""
        )
        self.items.set_currency(self._currency())

    def _issue_changed(self) -> None:
        issued = _parse_day(self.issue_date.value)
        if issued is not None and not self.due_changed_by_hand:
            self.due_date.value = (issued + timedelta(days=self.terms_days)).isoformat()

    def _due_typed(self) -> None:
        self.due_changed_by_hand = True

    async def save(self) -> None:
        self.message.clear()
        for label in (self.client_error, self.issue_error, self.due_error):
            label.text = ""
        issued, due = _parse_day(self.issue_date.value), _parse_day(self.due_date.value)
        lines = self.items.lines()
        if issued is None:
            self.issue_error.text = _("Enter the issue date.")
        if due is None:
            self.due_error.text = _("Enter the due date.")
        if not self.client.value:
            self.client_error.text = _("Choose a client.")
        if issued is None or due is None or lines is None or not self.client.value:
            self._fail(_("Nothing was saved: please correct what is marked in red."))
            return
        fields = {
            "client_public_id": str(self.client.value),
            "issue_date": issued,
            "due_date": due,
            "lines": lines,
            "notes": str(self.notes.value or ""),
            "terms": str(self.terms.value or ""),
        }
        db, organization_id = self.current.db, self.staff.organization_id
        self.save_button.disable()
        try:
            if self.invoice is None:
                saved = await io_bound(
                    create_draft,
                    db,
                    organization_id,
                    kind=InvoiceKind(self.kind.value),
                    clock=self.current.clock,
                    **fields,
                )
            else:
                saved = await io_bound(update_draft, db, organization_id, self.invoice.public_id, **fields)
        except InvalidDetails as error:
            self.client_error.text = error.errors.get("client", "")
            self.issue_error.text = error.errors.get("issue_date", "")
            self.due_error.text = error.errors.get("due_date", "")
            self.items.show_errors(error.errors)
            others = [m for k, m in error.errors.items() if k in ("lines", "notes", "terms")]
            self._fail(" ".join(others) or _("Nothing was saved: please correct what is marked in red."))
            return
        except DomainError as error:
            self._fail(human_message(error, locale=self.locale))
            return
        finally:
            self.save_button.enable()
        ui.navigate.to(f"/admin/invoices/{saved.public_id}?done=saved")

    def _fail(self, text: str) -> None:
        self.message.clear()
        with self.message:
            banner("negative", text)


def _field_error(marker: str) -> ui.label:
    return ui.label().classes("text-sm text-negative").props("role=alert").mark(marker)


def _date_input(label: str, value: date, marker: str) -> ui.input:
    return (
        ui.input(label, value=value.isoformat())
        .props("outlined dense type=date")
        .classes("w-full")
        .mark(marker)
    )


def _parse_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def _line_text(line: LineView, choices: list[TaxChoice], currency: str, locale: str) -> LineText:
    """A saved line as the editor shows it, its numbers written as ``locale`` writes them."""
    choice = _choice_for(choices, line.tax_name, line.tax_rate_percent) if line.tax_rate_percent else None
    return LineText(
        description=line.description,
        quantity=number_text(line.quantity, locale),
        rate=amount_text(Money(line.unit_price_minor, currency), locale),
        tax_key=choice.key if choice else NO_TAX,
        discount=number_text(line.discount_percent, locale) if line.discount_percent else "",
    )
