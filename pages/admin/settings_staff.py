"""Settings > Staff: the business's staff accounts: add, change the role, disable and enable; require
two-factor sign-in of all staff, and reset a staff member's when their phone is lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.dialog_host import DialogHost
from components.field_errors import show_field_error
from components.headings import dialog_title
from components.offload import io_bound
from components.password_fields import NewPasswordFields
from components.settings_nav import owner_of, settings_page
from services import portal
from services.dates import format_moment
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _, ngettext
from services.staff_accounts import (
    ROLE_LABELS,
    NewStaff,
    StaffAccount,
    add_staff,
    change_staff_role,
    list_staff,
    role_label,
    set_staff_active,
)
from services.staff_auth import OWNER, STAFF, StaffPrincipal
from services.two_factor import (
    require_staff_two_factor,
    reset_staff_two_factor,
    staff_two_factor_required,
    staff_with_two_factor,
)

ROLE_HELP = N_("Owners also manage settings, staff accounts and API keys.")


@ui.page("/admin/settings/staff")
async def settings_staff_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/staff") as content:
        if content is None:
            return
        owner = owner_of(request)
        host = DialogHost()
        with ui.row().classes("w-full items-center justify-between gap-2"):
            with ui.column().classes("gap-0"):
                ui.label(_("Staff accounts")).classes("text-lg font-medium")
                ui.label(
                    _("Everyone here signs in at /admin. {ROLE_HELP}").format(ROLE_HELP=_(ROLE_HELP))
                ).classes("text-sm text-grey-7")
            add = ui.button(_("Add staff member"), icon="person_add").props("unelevated no-caps")
            add.mark("staff-add")
        await TwoFactorRequirement.build(owner)
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
        self.two_factor = await io_bound(
            staff_with_two_factor, portal.current().db, self.owner.organization_id
        )
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
                        ui.label(_("(you)")).classes("text-sm text-grey-7")
                    if not account.is_active:
                        ui.badge(_("Disabled")).props("color=grey-7").classes("text-sm px-2")
                ui.label(account.email).classes("text-sm text-grey-8 break-all")
                two_factor = account.public_id in self.two_factor
                ui.label(_("Two-factor sign-in on") if two_factor else _("Two-factor sign-in off")).classes(
                    "text-sm " + ("text-positive" if two_factor else "text-grey-7")
                ).mark(f"staff-two-factor-{account.email}")
                ui.label(_last_sign_in(account.last_login_at)).classes("text-sm text-grey-7")
            role = ui.select(_roles(), value=account.role, label=_("Role"))
            role.props("outlined dense options-dense").classes("w-32").mark(f"staff-role-{account.email}")
            role.on_value_change(lambda event, a=account: self.change_role(a, str(event.value)))
            label = _("Enable") if not account.is_active else _("Disable")
            toggle = ui.button(label, on_click=lambda a=account: self.set_active(a, not a.is_active))
            toggle.props("outline no-caps" + (" color=negative" if account.is_active else ""))
            toggle.mark(f"staff-{label.lower()}-{account.email}")
            if account.public_id in self.two_factor and not yourself:
                reset = ui.button(_("Reset two-factor"), on_click=lambda a=account: self.confirm_reset(a))
                reset.props("flat no-caps color=negative").mark(f"staff-reset-two-factor-{account.email}")

    def confirm_reset(self, account: StaffAccount) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
            dialog_title(dialog, _("Reset {name}'s two-factor sign-in?").format(name=account.name))
            ui.label(
                _(
                    "For a lost phone. Their authenticator app and recovery codes stop working; where "
                    "two-factor "
                    "sign-in is required they are signed out and set it up again at their next sign-in."
                )
            ).classes("text-sm text-grey-8")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")

                async def confirmed() -> None:
                    dialog.close()
                    await self.reset_two_factor(account)

                ui.button(_("Reset"), on_click=confirmed).props("unelevated no-caps color=negative").mark(
                    "staff-reset-two-factor-confirm"
                )
        dialog.open()

    async def reset_two_factor(self, account: StaffAccount) -> None:
        current = portal.current()
        self.notice.clear()
        try:
            await io_bound(
                reset_staff_two_factor,
                current.db,
                self.owner,
                account.public_id,
                clock=current.clock,
                events=current.events,  # their open pages leave, where it is required
            )
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
        else:
            with self.notice:
                banner("positive", _("{name}'s two-factor sign-in is reset.").format(name=account.name))
        await self.reload()

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
                events=current.events,
            ),
            (_("{name} is now an owner.") if role == OWNER else _("{name} is now staff.")).format(
                name=account.name
            ),
        )

    async def set_active(self, account: StaffAccount, active: bool) -> None:
        current = portal.current()
        done = (
            _("{name} can sign in again.")
            if active
            else _("{name} is disabled and was signed out everywhere.")
        ).format(name=account.name)
        await self._do(
            lambda: io_bound(
                set_staff_active,
                current.db,
                self.owner.organization_id,
                account.public_id,
                active,
                changed_by=self.owner.staff_user_id,
                clock=current.clock,
                events=current.events,
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


class TwoFactorRequirement:
    """The owner's switch: every staff member signs in with two-factor sign-in."""

    def __init__(self, owner: StaffPrincipal, required: bool) -> None:
        self.owner, self.stored = owner, required
        with ui.card().classes("w-full p-4 gap-1").props("flat bordered"):
            self.switch = ui.switch(_("Require two-factor sign-in for all staff"), value=required)
            self.switch.mark("staff-require-two-factor")
            ui.label(
                _(
                    "Staff without it set it up right after their password, before any back-office page "
                    "opens; "
                    "those signed in without it are signed out now. Turn it on for yourself first, in My "
                    "account."
                )
            ).classes("text-sm text-grey-7")
            self.notice = ui.column().classes("w-full gap-2").mark("staff-two-factor-notice")
        self.switch.on_value_change(self.change)

    @classmethod
    async def build(cls, owner: StaffPrincipal) -> TwoFactorRequirement:
        required = await io_bound(staff_two_factor_required, portal.current().db, owner.organization_id)
        return cls(owner, required)

    async def change(self) -> None:
        current = portal.current()
        wanted = bool(self.switch.value)
        if wanted == self.stored:  # put back after a refusal
            return
        self.notice.clear()
        try:
            ended = await io_bound(
                require_staff_two_factor,
                current.db,
                self.owner,
                wanted,
                clock=current.clock,
                events=current.events,  # the open pages of staff without it leave
            )
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            self.switch.set_value(self.stored)
            return
        self.stored = wanted
        if wanted:
            text = _("Two-factor sign-in is now required for all staff.")
            if ended:
                text += " " + ngettext(
                    "{count} session without it ended.", "{count} sessions without it ended.", ended
                ).format(count=ended)
        else:
            text = _("Two-factor sign-in is no longer required; staff who have it keep it.")
        with self.notice:
            banner("positive", text)


class AddStaffDialog:
    """Name, e-mail, role and an initial password (the same rules as every password)."""

    def __init__(self, owner: StaffPrincipal, on_done: Callable[[], Awaitable[None]]) -> None:
        self.owner, self.on_done = owner, on_done
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            dialog_title(self.dialog, _("Add staff member"))
            self.name = _input(_("Name"), "staff-new-name")
            self.email = _input(_("E-mail (they sign in with it)"), "staff-new-email", maxlength=254)
            self.role = ui.select(_roles(), value=STAFF, label=_("Role")).props(
                "outlined dense hide-bottom-space"
            )
            self.role.classes("w-full").mark("staff-new-role")
            ui.label(_(ROLE_HELP)).classes("text-xs text-grey-7")
            ui.label(
                _("Initial password: tell it to them in person; they can sign in with it at once.")
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
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button(_("Add"), on_click=self.submit).props("unelevated no-caps")
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
                show_field_error(field, message)
            self.error.text = _("Nobody was added. Please correct the fields marked in red.")
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading")
        self.dialog.close()
        ui.notify(
            _("{name} can now sign in at /admin as {email}.").format(name=added.name, email=added.email),
            type="positive",
        )
        await self.on_done()


def _roles() -> dict[str, str]:
    return {role: role_label(role) for role in ROLE_LABELS}


def _input(label: str, marker: str, *, maxlength: int = 200) -> ui.input:
    field = ui.input(label).props(f"outlined dense autocomplete=off maxlength={maxlength} hide-bottom-space")
    return field.classes("w-full").mark(marker)


def _last_sign_in(value: datetime | None) -> str:
    return _("Last sign-in {moment}").format(moment=format_moment(value)) if value else _("Never signed in")
