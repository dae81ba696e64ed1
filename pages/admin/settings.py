"""Settings > Business (/admin/settings): the business's profile, logo, contact details, tax number and
bank account."""

from __future__ import annotations

import itertools
from html import escape

from fastapi import Request
from nicegui import events, ui

from components.account_forms import ADDRESS_INPUTS
from components.countries import country_options
from components.field_errors import save_form, show_field_errors
from components.language_choice import RegionalCard
from components.offload import io_bound
from components.settings_nav import owner_of, settings_page
from components.sign_in_links_card import SignInLinksCard
from services import portal
from services.account_details import AddressInput
from services.bank_details import MAX_BANK_NAME_LENGTH, MAX_TAX_ID_LENGTH, grouped_iban
from services.business_profile import (
    MAX_LOGO_BYTES,
    TOO_LARGE,
    BusinessProfile,
    ProfileChange,
    get_profile,
    remove_logo,
    set_logo,
    update_profile,
)
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import _
from services.language_settings import get_regional_settings
from services.sign_in_links import sign_in_links_allowed
from services.staff_auth import StaffPrincipal

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
_logo_versions = itertools.count(1)  # a fresh logo URL after each change, past the browser's cache


@ui.page("/admin/settings")
async def admin_settings_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings") as content:
        if content is None:
            return
        current = portal.current()
        staff = owner_of(request)
        profile = await io_bound(get_profile, current.db, staff.organization_id)
        regional = await io_bound(get_regional_settings, current.db, staff.organization_id)
        links = await io_bound(sign_in_links_allowed, current.db, staff.organization_id)
        with ui.element("div").classes("w-full grid grid-cols-1 lg:grid-cols-3 gap-4 items-start"):
            with ui.column().classes("lg:col-span-2 w-full"):
                ProfileForm(current, staff, profile)
            with ui.column().classes("w-full"):
                LogoCard(current, staff, profile.has_logo)
                RegionalCard(current, staff, regional)
                SignInLinksCard(current, staff, links)


# Quasar's own header puts the file input inside an unnamed icon button (a control in a control, with
# no name). Here a named button opens the same file picker, and the input sits apart under a label.
UPLOAD_HEADER = """
<div class="row items-center gap-2 q-pa-sm">
  <q-btn unelevated no-caps color="primary" icon="add_photo_alternate" label="{choose}"
         :loading="props.isUploading" @click="props.pickFiles" />
  <label class="sr-only">{file}<q-uploader-add-trigger /></label>
</div>
"""


class ProfileForm:
    """Name, address and contact details; each field shows its own message, Cancel puts back the saved."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, profile: BusinessProfile) -> None:
        self.current, self.staff = current, staff
        self.fields: dict[str, ui.input | ui.select] = {}
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Business profile")).classes("text-lg font-medium")
            ui.label(
                _("Your customers see these details in the portal, on invoices and on receipts.")
            ).classes("text-sm text-grey-7")
            self._input("name", _("Business name"), autocomplete="organization")
            with _grid():
                for name, label, autocomplete, wide in ADDRESS_INPUTS:
                    field = self._input(
                        f"address.{name}",
                        label,
                        autocomplete=autocomplete,
                        maxlength=20 if name == "postal_code" else 200,
                    )
                    field.classes("sm:col-span-2" if wide else "")
                country = ui.select(country_options(), label=_("Country"), with_input=True)
                country.props("outlined dense").classes("w-full").mark("business-address-country")
                self.fields["address.country"] = country
            ui.label(_("Contact details")).classes("text-base font-medium mt-2")
            with _grid():
                self._input("email", _("E-mail"), autocomplete="email", maxlength=254).props("type=email")
                self._input("phone", _("Phone (optional)"), autocomplete="tel", maxlength=50)
                self._input("website", _("Website (optional)"), autocomplete="url")
            ui.label(_("Tax and bank details")).classes("text-base font-medium mt-2")
            ui.label(
                _(
                    "Printed on invoices. With an IBAN, invoices in euros also carry a QR code that "
                    "banking apps scan to pay them by transfer."
                )
            ).classes("text-sm text-grey-7")
            with _grid():
                self._input("tax_id", _("Tax number or VAT ID (optional)"), maxlength=MAX_TAX_ID_LENGTH)
                self._input("bank_name", _("Bank name (optional)"), maxlength=MAX_BANK_NAME_LENGTH)
                self._input("iban", _("IBAN (optional)"), maxlength=50)
                self._input("bic", _("BIC (optional)"), maxlength=11)
            self.notice = ui.column().classes("w-full gap-1").mark("business-notice")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.cancel).props("flat no-caps").mark("business-cancel")
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("business-save")
        self.fill(profile)

    def _input(self, key: str, label: str, *, autocomplete: str = "off", maxlength: int = 200) -> ui.input:
        field = ui.input(label).props(f"outlined dense autocomplete={autocomplete} maxlength={maxlength}")
        field.classes("w-full").mark("business-" + key.replace(".", "-").replace("_", "-"))
        self.fields[key] = field
        return field

    def fill(self, profile: BusinessProfile) -> None:
        values = {
            "name": profile.name,
            "email": profile.email,
            "phone": profile.phone,
            "website": profile.website,
            "tax_id": profile.tax_id,
            "bank_name": profile.bank_name,
            "iban": grouped_iban(profile.iban),
            "bic": profile.bic,
            **{f"address.{name}": getattr(profile.address, name) for name in ADDRESS_FIELDS},
        }
        for key, field in self.fields.items():
            field.value = values[key] or (None if key == "address.country" else "")
        show_field_errors(self.fields, {})

    def change(self) -> ProfileChange:
        def value(key: str) -> str:
            return str(self.fields[key].value or "")

        address = AddressInput(*(value(f"address.{name}") for name in ADDRESS_FIELDS))
        return ProfileChange(
            value("name"),
            address,
            value("email"),
            value("phone"),
            value("website"),
            tax_id=value("tax_id"),
            bank_name=value("bank_name"),
            iban=value("iban"),
            bic=value("bic"),
        )

    async def save(self) -> None:
        current, staff = self.current, self.staff
        saved = await save_form(
            lambda: io_bound(
                update_profile,
                current.db,
                staff.organization_id,
                self.change(),
                staff_user_id=staff.staff_user_id,
                clock=current.clock,
            ),
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("The business profile is saved."),
        )
        if saved is not None:
            self.fill(saved)

    async def cancel(self) -> None:
        profile = await io_bound(get_profile, self.current.db, self.staff.organization_id)
        self.fill(profile)
        self.notice.clear()


class LogoCard:
    """The current logo with Remove, and an upload that takes a PNG or JPEG of up to 1 MB."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, has_logo: bool) -> None:
        self.current, self.staff = current, staff
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Logo")).classes("text-lg font-medium")
            ui.label(
                _(
                    "Printed at the top of invoices and receipts. A PNG or JPEG image of up to 1 MB; "
                    "it is shrunk to fit 600 x 200 pixels."
                )
            ).classes("text-sm text-grey-7")
            self.preview = ui.column().classes("w-full gap-2")
            self.upload = (
                ui.upload(
                    label=_("Choose a logo"),
                    auto_upload=True,
                    max_file_size=MAX_LOGO_BYTES,
                    on_upload=self.uploaded,
                    on_rejected=self.rejected,
                )
                .props('accept=".png,.jpg,.jpeg,image/png,image/jpeg" flat bordered')
                .classes("w-full")
                .mark("logo-upload")
            )
            words = {"choose": _("Choose a logo"), "file": _("Logo file")}
            self.upload.add_slot("header", UPLOAD_HEADER.format(**{k: escape(v) for k, v in words.items()}))
            self.error = ui.label().classes("text-sm text-negative").mark("logo-error")
            self.error.props("role=alert")
        self.show(has_logo)

    def show(self, has_logo: bool) -> None:
        self.preview.clear()
        with self.preview:
            if not has_logo:
                ui.label(_("No logo yet.")).classes("text-sm text-grey-7").mark("logo-none")
                return
            with ui.element("div").classes("w-full rounded border border-grey-4 p-3 bg-white"):
                ui.image(f"/branding/logo?v={next(_logo_versions)}").props(
                    'fit=contain alt="The business\'s logo"'
                ).classes("w-full h-20").mark("logo-preview")
            ui.button(_("Remove logo"), icon="delete", on_click=self.remove).props(
                "flat no-caps color=negative"
            ).mark("logo-remove")

    async def uploaded(self, event: events.UploadEventArguments) -> None:
        self.error.text = ""
        if event.file.size() > MAX_LOGO_BYTES:  # the browser checks too, but a request can skip it
            self.error.text = _(TOO_LARGE)
            self.upload.reset()
            return
        data = await event.file.read()
        try:
            await io_bound(
                set_logo,
                self.current.db,
                self.staff.organization_id,
                data,
                staff_user_id=self.staff.staff_user_id,
                clock=self.current.clock,
            )
        except InvalidDetails as error:
            self.error.text = error.errors.get("logo", human_message(error))
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.upload.reset()
        self.show(True)
        ui.notify(_("The new logo is saved."), type="positive")

    def rejected(self) -> None:
        self.error.text = _(TOO_LARGE)

    async def remove(self) -> None:
        self.error.text = ""
        await io_bound(
            remove_logo,
            self.current.db,
            self.staff.organization_id,
            staff_user_id=self.staff.staff_user_id,
            clock=self.current.clock,
        )
        self.show(False)
        ui.notify(_("The logo is removed."), type="positive")


def _grid() -> ui.element:
    return ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-2 w-full")
