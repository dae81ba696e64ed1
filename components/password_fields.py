"""New password and Re-enter, with the requirements ticked off while typing (checked again on the server)."""

from __future__ import annotations

from nicegui import ui

from services.i18n import _
from services.password_change import check_password


class NewPasswordFields:
    def __init__(self, *, email: str, name: str) -> None:
        self.email, self.name = email, name
        # zxcvbn runs on the event loop: check once typing pauses, not at every key.
        self.new = _password(_("New password"), "new-password", "password-new").props("debounce=250")
        self.confirm = _password(_("Re-enter new password"), "new-password", "password-confirm")
        self.checklist = ui.column().classes("gap-1 text-sm").mark("password-requirements")
        self.new.on_value_change(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        check = check_password(self.new.value or "", email=self.email, name=self.name)
        self.checklist.clear()
        with self.checklist:
            for requirement in check.requirements:
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.icon("check_circle" if requirement.met else "radio_button_unchecked").classes(
                        "text-positive" if requirement.met else "text-grey-8"
                    )
                    ui.label(requirement.text).classes("text-grey-9" if requirement.met else "text-grey-7")

    @property
    def values(self) -> tuple[str, str]:
        return self.new.value or "", self.confirm.value or ""


def _password(label: str, autocomplete: str, mark: str) -> ui.input:
    field = ui.input(label, password=True, password_toggle_button=True)
    return field.props(f"outlined autocomplete={autocomplete} maxlength=200").classes("w-full").mark(mark)


def current_password_field() -> ui.input:
    return _password(_("Old password"), "current-password", "password-old")
