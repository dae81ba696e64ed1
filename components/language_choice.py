"""Choosing languages and time zones: the business's in Settings, each person's own in their account.

A saved choice reloads the page: every word on it, and the page's handlers (which find their reader
through the page's request), then follow the new choice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from components.field_errors import save_form, show_field_errors
from components.offload import io_bound
from services import portal
from services.i18n import _
from services.language_settings import (
    Preferences,
    RegionalSettings,
    language_choices,
    locale_choices,
    time_zone_choices,
    update_regional_settings,
)
from services.staff_auth import StaffPrincipal

DEFAULT = ""  # a person's "no choice of my own" in a select (Quasar needs a value, not None)


class RegionalCard:
    """Settings > Business: the locale, default language and time zone of the business."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, settings: RegionalSettings) -> None:
        self.current, self.staff = current, staff
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered").mark("regional"):
            ui.label(_("Language and region")).classes("text-lg font-medium")
            ui.label(
                _(
                    "The language of customers who chose none, how amounts and dates are written, "
                    "and the time zone of times shown."
                )
            ).classes("text-sm text-grey-7")
            self.fields: dict[str, ui.select] = {
                "default_language": _select(language_choices(), _("Default language"), "regional-language"),
                "locale": _select(locale_choices(), _("Locale (numbers, amounts, dates)"), "regional-locale"),
                "time_zone": _select(time_zone_choices(), _("Time zone"), "regional-time-zone"),
            }
            self.notice = ui.column().classes("w-full gap-1")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("regional-save")
        self.fill(settings)

    def fill(self, settings: RegionalSettings) -> None:
        for key, field in self.fields.items():
            field.value = getattr(settings, key)
        show_field_errors(self.fields, {})

    async def save(self) -> None:
        current, staff = self.current, self.staff
        change = RegionalSettings(
            locale=str(self.fields["locale"].value or ""),
            default_language=str(self.fields["default_language"].value or ""),
            time_zone=str(self.fields["time_zone"].value or ""),
        )
        saved = await save_form(
            lambda: io_bound(
                update_regional_settings,
                current.db,
                staff.organization_id,
                change,
                staff_user_id=staff.staff_user_id,
                clock=current.clock,
            ),
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("The language and region are saved."),
        )
        if saved is not None:
            self.fill(saved)


class PreferenceFields:
    """The two selects of a person's own language and time zone, for a card or a dialog."""

    def __init__(self, preferences: Preferences, *, browser_default: str, mark: str) -> None:
        languages = {DEFAULT: browser_default, **language_choices()}
        zones = {DEFAULT: _("The business's time zone"), **time_zone_choices()}
        self.fields: dict[str, ui.select] = {
            "language": _select(languages, _("Language"), f"{mark}-language"),
            "time_zone": _select(zones, _("Time zone"), f"{mark}-time-zone"),
        }
        self.saved = preferences
        self.fields["language"].value = preferences.language
        self.fields["time_zone"].value = preferences.time_zone

    def change(self) -> Preferences:
        return Preferences(
            language=str(self.fields["language"].value or ""),
            time_zone=str(self.fields["time_zone"].value or ""),
        )

    @property
    def changed(self) -> bool:
        return self.change() != self.saved


class PreferencesCard:
    """A person's own language and time zone; saving reloads the page in the new language."""

    def __init__(
        self,
        preferences: Preferences,
        save: Callable[[Preferences], Awaitable[Any]],
        *,
        browser_default: str,
        mark: str = "preferences",
    ) -> None:
        self._save = save
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered").mark(mark) as self.card:
            ui.label(_("Language and time zone")).classes("text-lg font-medium")
            ui.label(_("Pages, e-mails and PDFs for you are in this language.")).classes(
                "text-sm text-grey-7"
            )
            self.choice = PreferenceFields(preferences, browser_default=browser_default, mark=mark)
            self.fields = self.choice.fields
            self.notice = ui.column().classes("w-full gap-1")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark(f"{mark}-save")

    async def save(self) -> None:
        change = self.choice.change()
        saved = await save_form(
            lambda: self._save(change),
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("Saved."),
        )
        if saved is not None:
            ui.navigate.reload()  # the whole page, its words and its handlers, in the new language


def _select(options: dict[str, str], label: str, mark: str) -> ui.select:
    field = ui.select(options, label=label, with_input=True).props("outlined dense")
    return field.classes("w-full").mark(mark)
