"""Settings > API keys: create keys for the REST API (read only, or read and write) and revoke them."""

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
from components.settings_nav import owner_of, settings_page
from services import portal
from services.api_keys import (
    MAX_NAME_LENGTH,
    READ_WRITE,
    SCOPE_LABELS,
    ApiKeyInfo,
    CreatedKey,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    scope_label,
)
from services.dates import format_moment
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import _
from services.staff_auth import StaffPrincipal


@ui.page("/admin/settings/api-keys")
async def settings_api_keys_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/api-keys") as content:
        if content is None:
            return
        owner = owner_of(request)
        host = DialogHost()
        with ui.column().classes("w-full max-w-3xl gap-1"):
            ui.label(_("API keys")).classes("text-lg font-medium")
            with ui.row().classes("gap-1 text-sm text-grey-7"):
                ui.label(_("Your accounting software calls the REST API with a key, sent as"))
                ui.label("Authorization: Bearer <key>").classes("font-mono")
                ui.label("·")
                ui.link(_("API documentation"), "/api/docs", new_tab=True)
        NewKeyForm(owner, host, lambda: key_list.reload())
        key_list = KeyList(owner, host)
        await key_list.reload()


class NewKeyForm:
    def __init__(
        self, owner: StaffPrincipal, host: DialogHost, on_done: Callable[[], Awaitable[None]]
    ) -> None:
        self.owner, self.host, self.on_done = owner, host, on_done
        with ui.card().classes("w-full max-w-3xl gap-2 p-4").props("flat bordered"):
            ui.label(_("Create a key")).classes("font-medium")
            with ui.row().classes("w-full items-start gap-3 max-sm:flex-col"):
                self.name = ui.input(_("Key name"), placeholder=_("Such as: Books sync"))
                self.name.props(
                    f"outlined dense maxlength={MAX_NAME_LENGTH} hide-bottom-space autocomplete=off"
                )
                self.name.classes("grow max-sm:w-full").mark("api-key-name")
                scopes = {scope: scope_label(scope) for scope in SCOPE_LABELS}
                self.scope = ui.select(scopes, value=READ_WRITE, label=_("May"))
                self.scope.props("outlined dense options-dense hide-bottom-space")
                self.scope.classes("w-44 max-sm:w-full").mark("api-key-scope")
                self.button = ui.button(_("Create key"), icon="key", on_click=self.create).props(
                    "unelevated no-caps"
                )
                self.button.classes("mt-1").mark("api-key-create")
            ui.label(
                _("A read-only key can only fetch (GET); anything that changes data is refused.")
            ).classes("text-xs text-grey-7")

    async def create(self) -> None:
        current = portal.current()
        self.button.props("loading")
        try:
            created = await io_bound(
                create_api_key,
                current.db,
                self.owner.organization_id,
                str(self.name.value or ""),
                staff_user_id=self.owner.staff_user_id,
                scope=str(self.scope.value or READ_WRITE),
                clock=current.clock,
            )
        except InvalidDetails as error:
            self._error(error.errors.get("name", human_message(error)))
            return
        except DomainError as error:
            self._error(human_message(error))
            return
        finally:
            self.button.props(remove="loading")
        self._error("")
        self.name.value = ""
        self.host.show(lambda: SecretDialog(created))
        await self.on_done()

    def _error(self, message: str) -> None:
        show_field_error(self.name, message)


class SecretDialog:
    """The whole key, once: copy it now, it is not shown again."""

    def __init__(self, created: CreatedKey) -> None:
        with ui.dialog().props("persistent") as self.dialog, ui.card().classes("w-full max-w-xl gap-3 p-6"):
            dialog_title(self.dialog, _("API key “{name}” created").format(name=created.name))
            banner("warning", _("Copy the key now and keep it safe: it will not be shown again."))
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                secret = ui.input(_("API key"), value=created.secret).props("outlined dense readonly")
                secret.classes("grow font-mono").mark("api-key-secret")
                # Named by its visible word: a bare icon would be a button without a name in every language.
                ui.button(_("Copy"), icon="content_copy", on_click=lambda: self.copy(created.secret)).props(
                    "outline no-caps no-wrap"
                ).classes("shrink-0").mark("api-key-copy")
            with ui.row().classes("w-full justify-end"):
                ui.button(_("Done"), on_click=self.dialog.close).props("unelevated no-caps").mark(
                    "api-key-done"
                )

    def copy(self, secret: str) -> None:
        ui.clipboard.write(secret)
        ui.notify(_("The key is copied."), type="positive")


class KeyList:
    def __init__(self, owner: StaffPrincipal, host: DialogHost) -> None:
        self.owner, self.host = owner, host
        with ui.column().classes("w-full max-w-3xl gap-2"):
            self.notice = ui.column().classes("w-full gap-2").mark("api-key-notice")
            self.column = ui.column().classes("w-full gap-2").mark("api-keys")

    async def reload(self) -> None:
        keys = await io_bound(list_api_keys, portal.current().db, self.owner.organization_id)
        self.column.clear()
        with self.column:
            if not keys:
                ui.label(_("No API keys yet.")).classes("text-grey-7").mark("api-keys-empty")
            for key in keys:
                self._row(key)

    def _row(self, key: ApiKeyInfo) -> None:
        card = ui.card().classes("w-full p-3").props("flat bordered").mark(f"api-key-{key.prefix}")
        with card, ui.row().classes("w-full items-center gap-3 no-wrap max-sm:flex-wrap"):
            with ui.column().classes("gap-0 grow min-w-0"):
                with ui.row().classes("items-center gap-2"):
                    ui.label(key.name).classes("font-medium break-all")
                    state = _("Revoked") if key.revoked_at else _("Active")
                    ui.badge(state).props(f"color={'grey-7' if key.revoked_at else 'positive'}").classes(
                        "text-sm px-2"
                    )
                    ui.badge(scope_label(key.scope)).props("outline color=grey-8").classes(
                        "text-sm px-2"
                    ).mark(f"api-key-scope-{key.prefix}")
                ui.label(_("{prefix}…").format(prefix=key.prefix)).classes("text-sm font-mono text-grey-8")
                ui.label(_history(key)).classes("text-sm text-grey-7")
            if key.revoked_at is None:
                ui.button(_("Revoke"), on_click=lambda k=key: self.host.show(lambda: self._confirm(k))).props(
                    "outline no-caps color=negative"
                ).mark(f"api-key-revoke-{key.prefix}")

    def _confirm(self, key: ApiKeyInfo) -> ui.dialog:
        with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
            dialog_title(dialog, _("Revoke “{name}”?").format(name=key.name))
            ui.label(
                _(
                    "Software using this key is refused from the next request on. This cannot be undone; "
                    "a new key can be created instead."
                )
            ).classes("text-sm text-grey-8")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps").mark(
                    "api-key-revoke-cancel"
                )
                ui.button(_("Revoke key"), on_click=lambda: self.revoke(dialog, key)).props(
                    "unelevated no-caps color=negative"
                ).mark("api-key-revoke-confirm")
        return dialog

    async def revoke(self, dialog: ui.dialog, key: ApiKeyInfo) -> None:
        current = portal.current()
        dialog.close()
        self.notice.clear()
        try:
            await io_bound(
                revoke_api_key,
                current.db,
                self.owner.organization_id,
                key.public_id,
                staff_user_id=self.owner.staff_user_id,
                clock=current.clock,
            )
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
        else:
            with self.notice:
                banner("positive", _("The key “{name}” is revoked.").format(name=key.name))
        await self.reload()


def _when(value: datetime) -> str:
    return format_moment(value)  # in the reader's time zone and locale


def _history(key: ApiKeyInfo) -> str:
    """When the key was made, last used and revoked: "Created … · last used … · revoked …"."""
    parts = [_("Created {moment}").format(moment=_when(key.created_at))]
    if key.last_used_at:
        parts.append(_("last used {moment}").format(moment=_when(key.last_used_at)))
    else:
        parts.append(_("never used"))
    if key.revoked_at:
        parts.append(_("revoked {moment}").format(moment=_when(key.revoked_at)))
    return " · ".join(parts)
