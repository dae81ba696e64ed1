"""Settings > Payments, Auto-pay retries: how a failed automatic charge is tried again."""

from __future__ import annotations

from nicegui import ui

from components.banner import banner
from components.field_errors import show_field_error
from components.offload import io_bound
from services import portal
from services.auto_pay import MAX_RETRIES, MAX_RETRY_DAYS, RetrySettings, save_retry_settings
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import _
from services.staff_auth import StaffPrincipal


class AutoPayRetriesCard:
    def __init__(self, current: portal.Portal, staff: StaffPrincipal, settings: RetrySettings) -> None:
        self.current, self.staff = current, staff
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered").mark("auto-pay-retries"):
            ui.label(_("Auto-pay retries")).classes("text-lg font-medium")
            ui.label(
                _(
                    "When a customer's automatic payment fails, they are e-mailed a link to pay the invoice "
                    "themselves, and the charge is tried again this many days later, up to this many times."
                )
            ).classes("text-sm text-grey-7")
            with ui.row().classes("gap-4 items-start"):
                self.days = (
                    ui.input(_("Retry after (days)"), value=str(settings.retry_days))
                    .props(f"outlined dense inputmode=numeric maxlength=2 hint='1–{MAX_RETRY_DAYS}'")
                    .classes("w-48")
                    .mark("retry-days")
                )
                self.retries = (
                    ui.input(_("Retries"), value=str(settings.retries))
                    .props(f"outlined dense inputmode=numeric maxlength=1 hint='0–{MAX_RETRIES}'")
                    .classes("w-48")
                    .mark("retries")
                )
            self.notice = ui.column().classes("w-full gap-1").mark("auto-pay-retries-notice")
            with ui.row().classes("w-full justify-end"):
                ui.button(_("Save"), on_click=self.save).props("unelevated no-caps").mark(
                    "auto-pay-retries-save"
                )

    async def save(self) -> None:
        self.notice.clear()
        try:
            saved = await io_bound(
                save_retry_settings,
                self.current.db,
                self.staff,
                retry_days=str(self.days.value or ""),
                retries=str(self.retries.value or ""),
                clock=self.current.clock,
            )
        except InvalidDetails as error:
            show_field_error(self.days, error.errors.get("retry_days", ""))
            show_field_error(self.retries, error.errors.get("retries", ""))
            return
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            return
        show_field_error(self.days, "")
        show_field_error(self.retries, "")
        with self.notice:
            banner(
                "positive",
                _(
                    "Saved. A failed automatic payment is tried again after {days} days, "
                    "at most {count} times."
                ).format(days=saved.retry_days, count=saved.retries),
            )
