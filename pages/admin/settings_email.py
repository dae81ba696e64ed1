"""Settings > E-mail: the SMTP server, a test e-mail, and the outbox with retry."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.field_errors import show_field_error
from components.offload import io_bound
from components.settings_nav import owner_of, settings_page
from services import portal
from services.dates import format_moment
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _, ngettext
from services.outbox import FAILED, PENDING, SENDING, SENT, OutboxEntry, list_outbox, retry_now
from services.smtp_settings import (
    DEFAULT_PORTS,
    RETYPE_FOR_NEW_SERVER,
    SECURITY_LABELS,
    SmtpChange,
    SmtpSettingsView,
    SmtpTestFailed,
    environment_smtp_config,
    get_smtp_settings,
    save_smtp_settings,
    send_test_email,
)
from services.staff_auth import StaffPrincipal

OUTBOX_LIMIT = 50
KEEP_STORED_HINT = N_("A password is stored. Leave empty to keep it.")
DROP_STORED_HINT = N_("Saving removes the stored password: it is only sent to the server it was saved with.")
STATE_COLORS = {
    "queued": "blue-grey-8",
    "waiting": "deep-orange-10",
    SENDING: "blue-9",
    SENT: "positive",
    FAILED: "negative",
}
STATE_LABELS = {
    "queued": N_("Queued"),
    "waiting": N_("Waiting to retry"),
    SENDING: N_("Sending"),
    SENT: N_("Sent"),
    FAILED: N_("Failed"),
}


@ui.page("/admin/settings/email")
async def settings_email_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/email") as content:
        if content is None:
            return
        owner = owner_of(request)
        current = portal.current()
        environment = environment_smtp_config(current.settings)
        view = await io_bound(get_smtp_settings, current.db, owner.organization_id, fallback=environment)
        form = SmtpForm(owner, view)
        TestEmailCard(owner, form)
        await OutboxList().build()


class SmtpForm:
    """Host, port, security, user, password (never shown back) and From, saved together."""

    def __init__(self, owner: StaffPrincipal, view: SmtpSettingsView) -> None:
        self.owner = owner
        with ui.card().classes("w-full max-w-3xl gap-3 p-4 md:p-6").props("flat bordered"):
            ui.label(_("SMTP server")).classes("text-lg font-medium")
            where = (
                _("the server set when the portal was started ({host})").format(host=view.environment_host)
                if view.environment_host
                else _("no server: e-mail waits in the outbox until one is set")
            )
            ui.label(
                _(
                    "E-mail to your customers goes out through this server. Leave the host empty to use "
                    "{where}."
                ).format(where=where)
            ).classes("text-sm text-grey-7")
            grid = "grid grid-cols-1 sm:grid-cols-6 gap-3 w-full"
            with ui.element("div").classes(grid):
                self.host = _input(
                    _("Host"), view.host, "smtp-host", "sm:col-span-4", placeholder="smtp.example.com"
                )
                self.port = _input(_("Port"), str(view.port), "smtp-port", "sm:col-span-2", maxlength=5)
                self.port.props("inputmode=numeric")
                self.security = (
                    ui.select(dict(SECURITY_LABELS), label=_("Security"), value=view.security)
                    .props("outlined dense hide-bottom-space")
                    .classes("w-full sm:col-span-6")
                    .mark("smtp-security")
                )
                self.user = _input(_("User name (optional)"), view.user, "smtp-user", "sm:col-span-3")
                self.user.props("autocomplete=off")
                self.password = _input(_("Password"), "", "smtp-password", "sm:col-span-3", password=True)
                self.password.props("autocomplete=new-password")
                self.from_address = _input(
                    _("Send as (From)"),
                    view.from_address,
                    "smtp-from",
                    "sm:col-span-6",
                    placeholder="Acme Studio <billing@acme.example>",
                    maxlength=254,
                )
            self.security.on_value_change(self._suggest_port)
            self._remember(view)
            for endpoint_field in (self.host, self.port, self.security, self.user):
                endpoint_field.on_value_change(self._password_hint)
            self.fields: dict[str, ui.input | ui.select] = {
                "host": self.host,
                "port": self.port,
                "security": self.security,
                "user": self.user,
                "password": self.password,
                "from_address": self.from_address,
            }
            self.message = ui.column().classes("w-full gap-2").mark("smtp-message")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("smtp-save")

    def change(self) -> SmtpChange:
        return SmtpChange(
            host=str(self.host.value or ""),
            port=str(self.port.value or ""),
            security=str(self.security.value or ""),
            user=str(self.user.value or ""),
            password=str(self.password.value or ""),
            from_address=str(self.from_address.value or ""),
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, field in self.fields.items():
            _field_error(field, errors.get(key, ""))

    def _remember(self, view: SmtpSettingsView) -> None:
        """The server a stored password was saved with: only there does an empty password keep it."""
        self.has_password = view.has_password
        self.saved_for = (view.host, str(view.port), view.security, view.user)
        self._password_hint()

    def _password_hint(self) -> None:
        typed_for = (
            str(self.host.value or "").strip(),
            str(self.port.value or "").strip(),
            str(self.security.value or ""),
            str(self.user.value or "").strip(),
        )
        if not self.has_password:
            hint = ""
        elif typed_for == self.saved_for:
            hint = _(KEEP_STORED_HINT)
        elif typed_for[0] and typed_for[3]:
            hint = RETYPE_FOR_NEW_SERVER
        else:  # no server of its own or no user name: nothing would sign in with it
            hint = _(DROP_STORED_HINT)
        self.password.props["hint"] = hint
        self.password.update()

    def _suggest_port(self) -> None:
        # Switching security usually means its usual port, unless the owner typed an unusual one.
        if str(self.port.value or "") in {str(port) for port in DEFAULT_PORTS.values()}:
            self.port.value = str(DEFAULT_PORTS.get(str(self.security.value), 587))

    async def save(self) -> None:
        current = portal.current()
        self.message.clear()
        self.save_button.props("loading")
        try:
            saved = await io_bound(
                save_smtp_settings,
                current.db,
                self.owner.organization_id,
                self.change(),
                staff_user_id=self.owner.staff_user_id,
                clock=current.clock,
                events=current.events,
            )
        except InvalidDetails as error:
            self.show_errors(error.errors)
            with self.message:
                banner("negative", _("Nothing was saved. Please correct the fields marked in red."))
            return
        except DomainError as error:
            with self.message:
                banner("negative", human_message(error))
            return
        finally:
            self.save_button.props(remove="loading")
        self.show_errors({})
        self.password.value = ""
        self._remember(saved)
        where = (
            f"{saved.host}:{saved.port}" if saved.host else _("the server set when the portal was started")
        )
        with self.message:
            banner("positive", _("Saved. E-mail goes out through {where} from now on.").format(where=where))


class TestEmailCard:
    """Send one message now through the settings as typed (saved or not)."""

    def __init__(self, owner: StaffPrincipal, form: SmtpForm) -> None:
        self.owner, self.form = owner, form
        with ui.card().classes("w-full max-w-3xl gap-3 p-4 md:p-6").props("flat bordered"):
            ui.label(_("Send test e-mail")).classes("text-lg font-medium")
            ui.label(
                _("Sends one message right now through the settings above, even before they are saved.")
            ).classes("text-sm text-grey-7")
            with ui.row().classes("w-full items-start gap-3 max-sm:flex-col"):
                self.to = _input(_("Send to"), owner.email, "smtp-test-to", "grow", maxlength=254)
                self.to.props("type=email autocomplete=email")
                self.button = ui.button(_("Send test e-mail"), on_click=self.send).props("outline no-caps")
                self.button.classes("mt-1").mark("smtp-test-send")
            self.result = ui.column().classes("w-full gap-2").mark("smtp-test-result")

    async def send(self) -> None:
        current = portal.current()
        self.result.clear()
        _field_error(self.to, "")
        self.button.props("loading")
        try:
            recipient = await io_bound(
                send_test_email,
                current.db,
                self.owner.organization_id,
                self.form.change(),
                str(self.to.value or ""),
                fallback=environment_smtp_config(current.settings),
                staff_user_id=self.owner.staff_user_id,
                clock=current.clock,
            )
        except InvalidDetails as error:
            _field_error(self.to, error.errors.get("test_to", ""))
            self.form.show_errors(error.errors)
            with self.result:
                banner(
                    "negative", _("The test e-mail was not sent. Please correct the fields marked in red.")
                )
            return
        except SmtpTestFailed as error:
            with self.result:
                banner("negative", _("The test e-mail was not sent. {reason}").format(reason=error.reason))
            return
        except DomainError as error:
            with self.result:
                banner("negative", human_message(error))
            return
        finally:
            self.button.props(remove="loading")
        self.form.show_errors({})
        with self.result:
            banner("positive", _("Test e-mail sent to {recipient}.").format(recipient=recipient))


class OutboxList:
    """The latest messages, newest first, with their state and "Retry now" for failed or waiting ones."""

    def __init__(self) -> None:
        with ui.column().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label(_("Outbox")).classes("text-lg font-medium")
                ui.button(_("Refresh"), icon="refresh", on_click=self.build).props("flat no-caps").mark(
                    "outbox-refresh"
                )
            ui.label(
                _("The latest {OUTBOX_LIMIT} messages, newest first.").format(OUTBOX_LIMIT=OUTBOX_LIMIT)
            ).classes("text-sm text-grey-7")
            self.notice = ui.column().classes("w-full gap-2")
            self.rows = ui.column().classes("w-full gap-2").mark("outbox")

    async def build(self) -> None:
        entries = await io_bound(list_outbox, portal.current().db, limit=OUTBOX_LIMIT)
        self.rows.clear()
        with self.rows:
            if not entries:
                ui.label(_("No e-mail has been sent yet.")).classes("text-grey-7").mark("outbox-empty")
            for entry in entries:
                self._row(entry)

    def _row(self, entry: OutboxEntry) -> None:
        state = state_of(entry)
        card = ui.card().classes("w-full gap-1 p-3").props("flat bordered")
        with card.mark(f"outbox-{entry.public_id}"):
            with ui.row().classes("w-full items-start gap-3 no-wrap max-sm:flex-wrap"):
                with ui.column().classes("gap-0 grow min-w-0"):
                    ui.label(entry.subject).classes("font-medium break-words")
                    ui.label(
                        _("To {list} · queued {_when}").format(
                            list=", ".join(entry.to), _when=_when(entry.created_at)
                        )
                    ).classes("text-sm text-grey-7 break-all")
                ui.badge(_(STATE_LABELS[state])).props(f"color={STATE_COLORS[state]}").classes(
                    "text-sm px-2"
                ).mark(f"outbox-state-{state}")
            details = _details(entry, state)
            if details:
                ui.label(details).classes("text-sm text-grey-8")
            # the text as stored: a set-password link in it shows as [link hidden] (services.outbox)
            with ui.expansion(_("Message")).props("dense").classes("w-full text-sm text-grey-8"):
                ui.label(entry.body).classes("whitespace-pre-wrap break-words").mark(
                    f"outbox-body-{entry.public_id}"
                )
            if entry.last_error and entry.status != SENT:
                ui.label(_("Last error: {last_error}").format(last_error=entry.last_error)).classes(
                    "text-sm text-negative break-words"
                )
            if state in ("waiting", FAILED):
                with ui.row().classes("w-full justify-end"):
                    ui.button(_("Retry now"), on_click=lambda p=entry.public_id: self.retry(p)).props(
                        "outline dense no-caps"
                    ).mark(f"outbox-retry-{entry.public_id}")

    async def retry(self, public_id: str) -> None:
        current = portal.current()
        self.notice.clear()
        try:
            await io_bound(retry_now, current.db, public_id, current.clock())
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
        else:
            with self.notice:
                banner("positive", _("The message is queued and goes out within a few seconds."))
        await self.build()


def state_of(entry: OutboxEntry) -> str:
    """queued (never tried), waiting (to retry after a failure), sending, sent or failed."""
    if entry.status == PENDING:
        return "waiting" if entry.attempts else "queued"
    return entry.status if entry.status in STATE_LABELS else FAILED


def _details(entry: OutboxEntry, state: str) -> str:
    tries = ngettext("{count} attempt", "{count} attempts", entry.attempts).format(count=entry.attempts)
    if state == SENT and entry.sent_at:
        return _("Sent {moment} · {tries}").format(moment=_when(entry.sent_at), tries=tries)
    if state == "waiting":
        return _("{tries} · next try {moment}").format(tries=tries, moment=_when(entry.next_attempt_at))
    if state == FAILED:
        return _("{tries} · no more automatic tries").format(tries=tries)
    return ""


def _when(value: datetime) -> str:
    return format_moment(value)  # in the reader's time zone and locale


def _input(
    label: str,
    value: str,
    marker: str,
    classes: str,
    *,
    placeholder: str = "",
    maxlength: int = 255,
    password: bool = False,
) -> ui.input:
    field = ui.input(label, value=value, placeholder=placeholder or None, password=password)
    field.props(f"outlined dense maxlength={maxlength} hide-bottom-space")
    return field.classes(f"w-full {classes}").mark(marker)


def _field_error(field: ui.input | ui.select, message: str) -> None:
    """The field shows its own message beside it (Quasar's error slot), or none."""
    show_field_error(field, message)
