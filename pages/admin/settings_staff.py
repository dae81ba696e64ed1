"""Settings > Staff: the business's staff accounts: add, change the role, disable and enable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.dialog_host import DialogHost
from components.offload import io_bound
from components.password_fields import NewPasswordFields
from components.settings_nav import owner_of, settings_page
from services import portal
from services.errors import DomainError, InvalidDetails, human_message
from services.staff_accounts import (
    ROLE_LABELS,
    NewStaff,
    StaffAccount,
    add_staff,
    change_staff_role,
    list_staff,
    set_staff_active,
)
from services.staff_auth import STAFF, StaffPrincipal

ROLE_HELP = "Owners also manage settings, staff accounts and API keys."


@ui.page("/admin/settings/staff")
async def settings_staff_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/staff") as content:
        if content is None:
            return
        owner = owner_of(request)
        host = DialogHost()
        with ui.row().classes("w-full items-center justify-between gap-2"):
            with ui.column().classes("gap-0"):
                ui.label("Staff accounts").classes("text-lg font-medium")
                ui.label(f"Everyone here signs in at /admin. {ROLE_HELP}").classes("text-sm text-grey-7")
            add = ui.button("Add staff member", icon="person_add").props("unelevated no-caps")
            add.mark("staff-add")
        staff_list = StaffList(owner)
        add.on_click(lambda: host.show(lambda: AddStaffDialog(owner, staff_list.reload)))
        await staff_list.reload()


class StaffList:
    def __init__(self, owner: StaffPrincipal) -> None:
        self.owner = owner
        self.notice = ui.column().classes("w-full gap-2").mark("staff-notice")
        self.rows = ui.column().classes("w-full gap-2").mark("staff-list")

    async def reload(self) -> None:
        accounts = await io_bound(list_staff, portal.current().db, self.owner.organization_id)
        self.rows.clear()
        with self.rows:
            for account in accounts:
                self._row(account)

    def _row(self, account: StaffAccount) -> None:
        yourself = account.staff_user_id == self.owner.staff_user_id
        card = ui.card().classes("w-full p-3").props("flat bordered").mark(f"staff-{account.email}")
        with card, ui.row().classes("w-full items-center gap-3 no-wrap max-sm:flex-wrap"):
            with ui.column().classes("gap-0 grow min-w-0"):
                with ui.row().classes("items-center gap-2"):
                    ui.label(account.name).classes("font-medium")
                    if yourself:
                        ui.label("(you)").classes("text-sm text-grey-7")
                    if not account.is_active:
                        ui.badge("Disabled").props("color=grey-7").classes("text-sm px-2")
                ui.label(account.email).classes("text-sm text-grey-8 break-all")
                ui.label(_last_sign_in(account.last_login_at)).classes("text-sm text-grey-7")
            role = ui.select(dict(ROLE_LABELS), value=account.role, label="Role")
            role.props("outlined dense options-dense").classes("w-32").mark(f"staff-role-{account.email}")
            role.on_value_change(lambda event, a=account: self.change_role(a, str(event.value)))
            label = "Enable" if not account.is_active else "Disable"
            toggle = ui.button(label, on_click=lambda a=account: self.set_active(a, not a.is_active))
            toggle.props("outline no-caps" + (" color=negative" if account.is_active else ""))
            toggle.mark(f"staff-{label.lower()}-{account.email}")

    async def change_role(self, account: StaffAccount, role: str) -> None:
        if role == account.role:
            return
        current = portal.current()
        await self._do(
            lambda: io_bound(
                change_staff_role,
                current.db,
                self.owner.organization_id,
                account.public_id,
                role,
                changed_by=self.owner.staff_user_id,
                clock=current.clock,
            ),
            f"{account.name} is now {ROLE_LABELS.get(role, role).lower()}.",
        )

    async def set_active(self, account: StaffAccount, active: bool) -> None:
        current = portal.current()
        done = (
            f"{account.name} can sign in again."
            if active
            else f"{account.name} is disabled and was signed out everywhere."
        )
        await self._do(
            lambda: io_bound(
                set_staff_active,
                current.db,
                self.owner.organization_id,
                account.public_id,
                active,
                changed_by=self.owner.staff_user_id,
                clock=current.clock,
            ),
            done,
        )

    async def _do(self, action: Callable[[], Awaitable[StaffAccount]], done: str) -> None:
        self.notice.clear()
        try:
            await action()
        except InvalidDetails as error:
            with self.notice:
                banner("negative", " ".join(error.errors.values()))
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
        else:
            with self.notice:
                banner("positive", done)
        await self.reload()  # a refused change puts the controls back as they are stored


class AddStaffDialog:
    """Name, e-mail, role and an initial password (the same rules as every password)."""

    def __init__(self, owner: StaffPrincipal, on_done: Callable[[], Awaitable[None]]) -> None:
        self.owner, self.on_done = owner, on_done
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            ui.label("Add staff member").classes("text-lg font-semibold")
            self.name = _input("Name", "staff-new-name")
            self.email = _input("E-mail (they sign in with it)", "staff-new-email", maxlength=254)
            self.role = ui.select(dict(ROLE_LABELS), value=STAFF, label="Role").props(
                "outlined dense hide-bottom-space"
            )
            self.role.classes("w-full").mark("staff-new-role")
            ui.label(ROLE_HELP).classes("text-xs text-grey-7")
            ui.label(
                "Initial password: tell it to them in person; they can sign in with it at once."
            ).classes("text-sm text-grey-8 mt-2")
            self.passwords = NewPasswordFields(email="", name="")
            self.passwords.new.props("dense hide-bottom-space")
            self.passwords.confirm.props("dense hide-bottom-space")
            self.name.on_value_change(self._recheck)
            self.email.on_value_change(self._recheck)
            self.fields: dict[str, ui.input | ui.select] = {
                "name": self.name,
                "email": self.email,
                "role": self.role,
                "password": self.passwords.new,
                "confirm": self.passwords.confirm,
            }
            self.error = ui.label().classes("text-sm text-negative").mark("staff-new-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button("Add", on_click=self.submit).props("unelevated no-caps")
                self.save.mark("staff-new-save")

    def _recheck(self) -> None:
        # the checklist refuses a password that is the new member's name or e-mail, as typed so far
        self.passwords.email = str(self.email.value or "")
        self.passwords.name = str(self.name.value or "")
        self.passwords.refresh()

    async def submit(self) -> None:
        current = portal.current()
        password, confirm = self.passwords.values
        new = NewStaff(
            name=str(self.name.value or ""),
            email=str(self.email.value or ""),
            role=str(self.role.value or ""),
            password=password,
            confirm=confirm,
        )
        self.save.props("loading")
        try:
            added = await io_bound(
                add_staff,
                current.db,
                self.owner.organization_id,
                new,
                added_by=self.owner.staff_user_id,
                clock=current.clock,
                rounds=current.settings.bcrypt_rounds,
            )
        except InvalidDetails as error:
            for key, field in self.fields.items():
                message = error.errors.get(key, "")
                field.props["error"] = bool(message)
                field.props["error-message"] = message
                field.update()
            self.error.text = "Nobody was added. Please correct the fields marked in red."
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading")
        self.dialog.close()
        ui.notify(f"{added.name} can now sign in at /admin as {added.email}.", type="positive")
        await self.on_done()


def _input(label: str, marker: str, *, maxlength: int = 200) -> ui.input:
    field = ui.input(label).props(f"outlined dense autocomplete=off maxlength={maxlength} hide-bottom-space")
    return field.classes("w-full").mark(marker)


def _last_sign_in(value: datetime | None) -> str:
    return f"Last sign-in {value.strftime('%d %b %Y, %H:%M UTC')}" if value else "Never signed in"
