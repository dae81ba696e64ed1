"""Settings > Documents: number formats, payment terms, default terms and notes, e-invoices, tax rates."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from nicegui import ui

from components.branding import business_branding
from components.dialog_host import DialogHost
from components.field_errors import save_form, show_field_errors
from components.headings import dialog_title
from components.offload import io_bound
from components.settings_nav import owner_of, settings_page
from services import portal
from services.amount_input import number_text
from services.document_settings import (
    KINDS,
    MAX_PREFIX_LENGTH,
    MAX_TERMS_DAYS,
    MAX_TEXT_LENGTH,
    DocumentSettings,
    DocumentSettingsChange,
    NumberFormatInput,
    format_number,
    get_document_settings,
    update_document_settings,
)
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import _
from services.staff_auth import StaffPrincipal
from services.tax_rates import (
    MAX_NAME_LENGTH,
    TaxRateView,
    create_tax_rate,
    delete_tax_rate,
    list_tax_rates,
    set_default_tax_rate,
    update_tax_rate,
)

NUMBER_PARTS = ("prefix", "width", "next_value")


@ui.page("/admin/settings/documents")
async def settings_documents_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/documents") as content:
        if content is None:
            return
        current = portal.current()
        staff = owner_of(request)
        settings = await io_bound(get_document_settings, current.db, staff.organization_id)
        DocumentsForm(current, staff, settings)
        branding = await business_branding(current.db)
        rates = TaxRatesCard(current, staff, branding.locale)
        await rates.load()


class DocumentsForm:
    """Number formats with a live example, and what new invoices start with; one Save for all."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, settings: DocumentSettings) -> None:
        self.current, self.staff = current, staff
        self.fields: dict[str, ui.input | ui.textarea] = {}
        self.examples: dict[str, ui.label] = {}
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Document numbers")).classes("text-lg font-medium")
            ui.label(
                _(
                    "Each number is the prefix followed by the next number, padded with zeros to the width. "
                    "Numbers never repeat, so the next number cannot go back to one already used."
                )
            ).classes("text-sm text-grey-7")
            for number_format in settings.formats:
                self._number_row(number_format.kind)
            ui.separator()
            ui.label(_("New invoices")).classes("text-lg font-medium")
            terms = self._field(
                "payment_terms_days",
                ui.input(
                    _("Payment terms: days to pay (0 to {MAX_TERMS_DAYS})").format(
                        MAX_TERMS_DAYS=MAX_TERMS_DAYS
                    )
                ),
                "payment-terms",
            )
            terms.props("inputmode=numeric maxlength=3").classes("w-full sm:w-72")
            for key, label, marker in (
                ("default_terms", _("Default terms and conditions"), "default-terms"),
                ("default_notes", _("Default notes to the customer"), "default-notes"),
            ):
                area = self._field(key, ui.textarea(label), marker)
                area.props(f"autogrow maxlength={MAX_TEXT_LENGTH} counter").classes("w-full")
            ui.separator()
            ui.label(_("E-invoices")).classes("text-lg font-medium")
            ui.label(
                _(
                    "Invoice PDFs become Factur-X / ZUGFeRD e-invoices (EN 16931): the PDF your customers "
                    "download or receive by e-mail carries the invoice's data, which their accounting "
                    "software reads. It needs your VAT ID and country (Settings > Business) and the "
                    "customer's country."
                )
            ).classes("text-sm text-grey-7")
            self.e_invoices = ui.checkbox(_("Attach e-invoice data (Factur-X) to invoice PDFs"))
            self.e_invoices.mark("documents-e-invoices")
            self.e_invoice_error = (
                ui.label().classes("text-sm text-negative").mark("documents-e-invoices-error")
            )
            self.e_invoices.props(f"aria-describedby={self.e_invoice_error.html_id}")
            self.notice = ui.column().classes("w-full gap-1").mark("documents-notice")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.cancel).props("flat no-caps").mark("documents-cancel")
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("documents-save")
        self.fill(settings)

    def _number_row(self, kind: str) -> None:
        with ui.element("div").classes("w-full grid grid-cols-2 sm:grid-cols-5 gap-2 items-start"):
            ui.label(_(KINDS[kind])).classes("col-span-2 sm:col-span-1 font-medium sm:pt-2")
            prefix = self._field(f"{kind}.prefix", ui.input(_("Prefix")), f"number-{kind}-prefix")
            prefix.props(f"maxlength={MAX_PREFIX_LENGTH}")
            width = self._field(f"{kind}.width", ui.input(_("Digits")), f"number-{kind}-width")
            width.props("inputmode=numeric maxlength=2")
            following = self._field(f"{kind}.next_value", ui.input(_("Next number")), f"number-{kind}-next")
            following.props("inputmode=numeric maxlength=13").classes("col-span-2 sm:col-span-1")
            with ui.column().classes("gap-0 col-span-2 sm:col-span-1 sm:pt-1"):
                ui.label(_("Next one")).classes("text-xs text-grey-7")
                example = ui.label().classes("font-mono text-base").mark(f"number-{kind}-example")
            self.examples[kind] = example
        for field in (prefix, width, following):
            field.on_value_change(lambda _, kind=kind: self._update_example(kind))

    def _field(self, key: str, field: ui.input | ui.textarea, marker: str) -> ui.input | ui.textarea:
        field.props("outlined dense").classes("w-full").mark(marker)
        self.fields[key] = field
        return field

    def _update_example(self, kind: str) -> None:
        prefix = str(self.fields[f"{kind}.prefix"].value or "").strip()
        width = str(self.fields[f"{kind}.width"].value or "").strip()
        following = str(self.fields[f"{kind}.next_value"].value or "").strip()
        shown = "—"
        # isdecimal, not isdigit: "²".isdigit() is true, yet int("²") raises
        if width.isdecimal() and following.isdecimal() and 1 <= int(width) <= 10 and len(following) <= 13:
            shown = format_number(prefix, int(width), int(following))
        self.examples[kind].text = shown

    def fill(self, settings: DocumentSettings) -> None:
        for number_format in settings.formats:
            kind = number_format.kind
            self.fields[f"{kind}.prefix"].value = number_format.prefix
            self.fields[f"{kind}.width"].value = str(number_format.width)
            self.fields[f"{kind}.next_value"].value = str(number_format.next_value)
            self._update_example(kind)
        self.fields["payment_terms_days"].value = str(settings.payment_terms_days)
        self.fields["default_terms"].value = settings.default_terms
        self.fields["default_notes"].value = settings.default_notes
        self.e_invoices.value = settings.e_invoices
        self.e_invoice_error.text = ""
        show_field_errors(self.fields, {})

    def change(self) -> DocumentSettingsChange:
        def value(key: str) -> str:
            return str(self.fields[key].value or "")

        formats = tuple(
            NumberFormatInput(kind, *(value(f"{kind}.{part}") for part in NUMBER_PARTS)) for kind in KINDS
        )
        return DocumentSettingsChange(
            formats,
            value("payment_terms_days"),
            value("default_terms"),
            value("default_notes"),
            e_invoices=bool(self.e_invoices.value),
        )

    async def save(self) -> None:
        current, staff = self.current, self.staff
        self.e_invoice_error.text = ""

        async def attempt() -> DocumentSettings:
            try:
                return await io_bound(
                    update_document_settings,
                    current.db,
                    staff.organization_id,
                    self.change(),
                    staff_user_id=staff.staff_user_id,
                    clock=current.clock,
                )
            except InvalidDetails as refused:  # a check box has no error slot: its message goes beneath it
                self.e_invoice_error.text = refused.errors.get("e_invoices", "")
                raise

        saved = await save_form(
            attempt,
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("The document settings are saved."),
        )
        if saved is not None:
            self.fill(saved)

    async def cancel(self) -> None:
        self.fill(await io_bound(get_document_settings, self.current.db, self.staff.organization_id))
        self.notice.clear()


class TaxRatesCard:
    """The rates offered in the invoice editor: add, edit, delete, and the default for new lines."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, locale: str) -> None:
        self.current, self.staff, self.locale = current, staff, locale  # rates are typed as it writes them
        self.dialogs = DialogHost()
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label(_("Tax rates")).classes("text-lg font-medium")
                ui.button(_("Add tax rate"), icon="add", on_click=lambda: self.edit(None)).props(
                    "unelevated no-caps"
                ).mark("tax-add")
            ui.label(
                _(
                    "Invoice lines keep the rate they were written with: changing or deleting a rate here "
                    "never changes an existing invoice."
                )
            ).classes("text-sm text-grey-7")
            self.error = ui.label().classes("text-sm text-negative").mark("tax-list-error")
            self.list = ui.column().classes("w-full gap-0")

    async def load(self) -> None:
        rates = await io_bound(list_tax_rates, self.current.db, self.staff.organization_id)
        self.list.clear()
        with self.list:
            if not rates:
                ui.label(_("No tax rates yet.")).classes("text-grey-7")
            for rate in rates:
                self._row(rate)

    def _row(self, rate: TaxRateView) -> None:
        row = ui.row().classes("w-full items-center gap-2 py-2 border-b border-grey-3 no-wrap")
        with row.mark(f"tax-row-{rate.public_id}"):
            with ui.column().classes("gap-0 grow min-w-0"):
                ui.label(rate.name).classes("font-medium truncate")
                if rate.is_default:
                    ui.label(_("Default for new lines")).classes("text-xs text-primary")
            ui.label(
                _("{number_text} %").format(number_text=number_text(rate.rate_percent, self.locale))
            ).classes("tabular-nums text-end w-20")
            with ui.row().classes("gap-0 no-wrap"):
                if not rate.is_default:
                    make_default = _("Make {name} the default").format(name=rate.name)
                    ui.button(icon="star_outline", on_click=lambda: self.make_default(rate)).props(
                        f'flat round dense aria-label="{make_default}"'
                    ).tooltip(_("Make default")).mark(f"tax-default-{rate.public_id}")
                edit = _("Edit {name}").format(name=rate.name)
                ui.button(icon="edit", on_click=lambda: self.edit(rate)).props(
                    f'flat round dense aria-label="{edit}"'
                ).tooltip(_("Edit")).mark(f"tax-edit-{rate.public_id}")
                delete = _("Delete {name}").format(name=rate.name)
                ui.button(icon="delete", on_click=lambda: self.confirm_delete(rate)).props(
                    f'flat round dense color=negative aria-label="{delete}"'
                ).tooltip(_("Delete")).mark(f"tax-delete-{rate.public_id}")

    def edit(self, rate: TaxRateView | None) -> None:
        self.dialogs.show(lambda: TaxRateDialog(self, rate))

    def confirm_delete(self, rate: TaxRateView) -> None:
        def build() -> ui.dialog:
            with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
                dialog_title(dialog, _("Delete the tax rate {label}?").format(label=rate.label))
                ui.label(
                    _("Invoices written with it keep their tax; new lines can no longer use it.")
                ).classes("text-sm text-grey-8")
                with ui.row().classes("w-full justify-end gap-2"):
                    ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")

                    async def delete() -> None:
                        dialog.close()
                        await self.run(delete_tax_rate, rate.public_id)

                    ui.button(_("Delete"), on_click=delete).props("unelevated no-caps color=negative").mark(
                        "tax-delete-confirm"
                    )
            return dialog

        self.dialogs.show(build)

    async def make_default(self, rate: TaxRateView) -> None:
        await self.run(set_default_tax_rate, rate.public_id)

    async def run(self, action: Callable[..., None], public_id: str) -> None:
        self.error.text = ""
        try:
            await io_bound(
                action,
                self.current.db,
                self.staff.organization_id,
                public_id,
                staff_user_id=self.staff.staff_user_id,
                clock=self.current.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error)
        await self.load()


class TaxRateDialog:
    def __init__(self, card: TaxRatesCard, rate: TaxRateView | None) -> None:
        self.card, self.rate = card, rate
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
            dialog_title(self.dialog, _("Edit tax rate") if rate else _("Add a tax rate"))
            self.fields: dict[str, ui.input] = {
                "name": ui.input(_("Name, like VAT or Sales tax"), value=rate.name if rate else "")
                .props(f"outlined dense maxlength={MAX_NAME_LENGTH}")
                .classes("w-full")
                .mark("tax-name"),
                "rate": ui.input(
                    _("Rate (%)"), value=number_text(rate.rate_percent, card.locale) if rate else ""
                )
                .props("outlined dense inputmode=decimal maxlength=9")
                .classes("w-full")
                .mark("tax-rate"),
            }
            self.default = None
            if rate is None:
                self.default = ui.checkbox(_("Use it for new invoice lines by default")).mark(
                    "tax-is-default"
                )
            self.error = ui.label().classes("text-sm text-negative").mark("tax-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("tax-save")

    async def save(self) -> None:
        card, current = self.card, self.card.current
        name, rate = (str(self.fields[key].value or "") for key in ("name", "rate"))
        audit = {"staff_user_id": card.staff.staff_user_id, "clock": current.clock, "locale": card.locale}
        self.save_button.props("loading")
        self.error.text = ""
        try:
            if self.rate is None:
                is_default = bool(self.default.value) if self.default else False
                await io_bound(
                    create_tax_rate,
                    current.db,
                    card.staff.organization_id,
                    name,
                    rate,
                    is_default=is_default,
                    **audit,
                )
            else:
                await io_bound(
                    update_tax_rate,
                    current.db,
                    card.staff.organization_id,
                    self.rate.public_id,
                    name,
                    rate,
                    **audit,
                )
        except InvalidDetails as error:
            show_field_errors(self.fields, error.errors)
            self.error.text = _("Please correct the fields marked in red.")
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save_button.props(remove="loading")
        self.dialog.close()
        ui.notify(_("The tax rate is saved."), type="positive")
        await card.load()
