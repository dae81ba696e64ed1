"""Two-factor sign-in on a page: the set-up (QR code, secret, a code to confirm), the recovery codes
shown once, and the panel of an account page that turns it on and off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.banner import banner
from components.dialog_host import DialogHost
from components.headings import dialog_title
from components.offload import io_bound
from services import portal
from services.dates import format_day
from services.errors import DomainError, human_message
from services.i18n import N_, _, formatting_locale, ngettext
from services.principal import Principal
from services.staff_auth import StaffPrincipal
from services.two_factor import (
    RecoveryCodes,
    TotpSetup,
    TwoFactorStatus,
    begin_setup,
    confirm_setup,
    disable_two_factor,
    regenerate_recovery_codes,
    two_factor_status,
)

APP_HINT = N_(
    "Use an authenticator app such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis."
)


def setup_instructions(setup: TotpSetup) -> None:
    """Scan the QR code, or type the secret: the app then shows a new 6-digit code every 30 seconds."""
    with ui.row().classes("w-full items-start gap-6 sm:flex-nowrap max-sm:flex-col max-sm:items-center"):
        alt = _("QR code for {issuer}").format(issuer=setup.issuer).replace('"', "'")
        ui.image(setup.qr_data_url).props(f'alt="{alt}" fit=contain no-spinner no-transition').classes(
            "w-48 h-48 shrink-0 border rounded bg-white"
        ).mark("two-factor-qr")
        with ui.column().classes("gap-2 grow min-w-0"):
            ui.label(_("1. Scan the QR code with your authenticator app.")).classes("text-sm")
            ui.label(_(APP_HINT)).classes("text-xs text-grey-7")
            ui.label(_("Cannot scan it? Enter this key in the app instead:")).classes("text-sm")
            ui.label(setup.secret_in_groups).classes(
                "font-mono text-sm bg-grey-2 rounded px-2 py-1 break-all select-all"
            ).mark("two-factor-secret")
            ui.label(
                _("Account: {account} · Issuer: {issuer}").format(account=setup.account, issuer=setup.issuer)
            ).classes("text-xs text-grey-7")
            ui.label(_("2. Enter the 6-digit code the app shows now.")).classes("text-sm")


def code_input(label: str = "", marker: str = "two-factor-code") -> ui.input:
    field = ui.input(label or _("6-digit code")).props(
        "outlined dense autocomplete=one-time-code inputmode=numeric maxlength=6 hide-bottom-space"
    )
    return field.classes("w-48 max-sm:w-full").mark(marker)


def recovery_codes_view(codes: RecoveryCodes) -> None:
    """The codes, once: each signs in once when the phone is lost. Copy or download them now."""
    banner(
        "warning",
        _(
            "Save these recovery codes somewhere safe, such as a password manager. Each works once, "
            "in place of a code from your app. They will not be shown again."
        ),
    )
    with (
        ui.element("div")
        .classes("grid grid-cols-2 gap-x-6 gap-y-1 font-mono text-base")
        .mark("two-factor-recovery-codes")
    ):
        for code in codes.codes:
            ui.label(code).classes("select-all")
    text = "\n".join(codes.codes) + "\n"

    def copy() -> None:
        ui.clipboard.write(text)
        ui.notify(_("The recovery codes are copied."))

    with ui.row().classes("gap-2"):
        ui.button(_("Copy"), icon="content_copy", on_click=copy).props("outline no-caps dense")
        ui.button(
            _("Download"), icon="download", on_click=lambda: ui.download.content(text, "recovery-codes.txt")
        ).props("outline no-caps dense")


class TwoFactorPanel:
    """Two-factor sign-in in an account page: its state, Turn on, New recovery codes, Turn off."""

    def __init__(self, who: Principal | StaffPrincipal, *, ip_address: str) -> None:
        self.who, self.ip_address = who, ip_address
        self.host = DialogHost()
        with ui.card().classes("w-full max-w-2xl p-4 sm:p-6 gap-3").props("flat bordered") as self.card:
            with ui.row().classes("items-center gap-2"):
                ui.icon("phonelink_lock").classes("text-2xl text-primary")
                ui.label(_("Two-factor sign-in")).classes("text-lg font-semibold")
            ui.label(
                _(
                    "Besides your password, sign-in asks for a code from an app on your phone, so a stolen "
                    "password alone does not open your account."
                )
            ).classes("text-sm text-grey-8")
            self.body = ui.column().classes("w-full gap-3").mark("two-factor-panel")

    async def reload(self) -> None:
        status = await io_bound(two_factor_status, portal.current().db, self.who)
        self.body.clear()
        with self.body:
            if status.enabled:
                self._enabled(status)
            else:
                self._disabled(status)

    def _enabled(self, status: TwoFactorStatus) -> None:
        with ui.row().classes("items-center gap-2"):
            ui.badge(_("On")).props("color=positive").classes("text-sm px-2").mark("two-factor-on")
            since = format_day(status.enabled_at, formatting_locale()) if status.enabled_at else ""
            left = status.recovery_codes_left
            ui.label(
                ngettext(
                    "Since {since} · {count} recovery code left",
                    "Since {since} · {count} recovery codes left",
                    left,
                ).format(since=since, count=left)
            ).classes("text-sm text-grey-8")
        if status.recovery_codes_left <= 3:
            banner("warning", _("Few recovery codes are left: make new ones and put them away safely."))
        with ui.row().classes("gap-2"):
            ui.button(
                _("New recovery codes"),
                icon="autorenew",
                on_click=lambda: self.host.show(lambda: ProofDialog(self, regenerate=True)),
            ).props("outline no-caps").mark("two-factor-regenerate")
            if not status.required:
                ui.button(
                    _("Turn off"),
                    icon="lock_open",
                    on_click=lambda: self.host.show(lambda: ProofDialog(self, regenerate=False)),
                ).props("outline no-caps color=negative").mark("two-factor-disable")
        if status.required:
            ui.label(_("Your business requires two-factor sign-in for all staff.")).classes(
                "text-sm text-grey-7"
            )

    def _disabled(self, status: TwoFactorStatus) -> None:
        with ui.row().classes("items-center gap-2"):
            ui.badge(_("Off")).props("color=grey-7").classes("text-sm px-2").mark("two-factor-off")
            ui.label(_("Only your password protects your account.")).classes("text-sm text-grey-8")
        ui.button(_("Turn on two-factor sign-in"), icon="qr_code_2", on_click=self.start).props(
            "unelevated no-caps"
        ).mark("two-factor-start")

    async def start(self) -> None:
        current = portal.current()
        try:
            setup = await io_bound(begin_setup, current.db, self.who, clock=current.clock)
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            await self.reload()
            return
        self.body.clear()
        with self.body:
            SetupForm(
                setup,
                self._confirm,
                on_cancel=self.reload,
                on_done=lambda codes: self.show_codes(codes, _("Two-factor sign-in is on.")),
            )

    async def _confirm(self, code: str) -> RecoveryCodes:
        current = portal.current()
        return await io_bound(
            confirm_setup, current.db, self.who, code, ip_address=self.ip_address, clock=current.clock
        )

    def show_codes(self, codes: RecoveryCodes, title: str) -> None:
        self.body.clear()
        with self.body:
            ui.label(title).classes("font-medium text-positive").mark("two-factor-done")
            recovery_codes_view(codes)
            ui.button(_("Done"), on_click=self.reload).props("unelevated no-caps").mark(
                "two-factor-codes-done"
            )


class SetupForm:
    """The QR code and the code to confirm it; ``confirm`` returns the recovery codes to show."""

    def __init__(
        self,
        setup: TotpSetup,
        confirm: Callable[[str], Awaitable[RecoveryCodes]],
        *,
        on_cancel: Callable[[], Awaitable[None]] | None = None,
        on_done: Callable[[RecoveryCodes], None],
    ) -> None:
        self.confirm, self.on_done = confirm, on_done
        with ui.column().classes("w-full gap-3") as self.column:
            setup_instructions(setup)
            with ui.row().classes("w-full items-start gap-2 max-sm:flex-col"):
                self.code = code_input()
                self.code.on("keydown.enter", self.submit)
                self.button = ui.button(_("Confirm"), on_click=self.submit).props("unelevated no-caps")
                self.button.classes("mt-1 max-sm:w-full").mark("two-factor-confirm")
                if on_cancel is not None:
                    ui.button(_("Cancel"), on_click=on_cancel).props("flat no-caps").classes("mt-1")
            self.error = ui.label().classes("text-sm text-negative").mark("two-factor-error")

    async def submit(self) -> None:
        self.button.props("loading")
        self.error.text = ""
        try:
            codes = await self.confirm(str(self.code.value or ""))
        except DomainError as error:
            self.error.text = human_message(error, now=portal.current().clock())
            return
        finally:
            self.button.props(remove="loading")
        self.on_done(codes)


class ProofDialog:
    """A current code or the password, before new recovery codes or turning two-factor sign-in off."""

    def __init__(self, panel: TwoFactorPanel, *, regenerate: bool) -> None:
        self.panel, self.regenerate = panel, regenerate
        title = _("Make new recovery codes?") if regenerate else _("Turn off two-factor sign-in?")
        explain = (
            _("Your current recovery codes stop working, used or not.")
            if regenerate
            else _("Sign-in will ask for your password only.")
        )
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
            dialog_title(self.dialog, title)
            ui.label(
                " ".join((explain, _("To confirm, enter a current code from your app or your password.")))
            ).classes("text-sm text-grey-8")
            self.proof = ui.input(_("Code or password"), password=True, password_toggle_button=True).props(
                "outlined dense autocomplete=current-password hide-bottom-space"
            )
            self.proof.classes("w-full").mark("two-factor-proof")
            self.error = ui.label().classes("text-sm text-negative").mark("two-factor-proof-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                label = _("Make new codes") if regenerate else _("Turn off")
                color = "primary" if regenerate else "negative"
                self.button = ui.button(label, on_click=self.submit).props(
                    f"unelevated no-caps color={color}"
                )
                self.button.mark("two-factor-proof-confirm")

    async def submit(self) -> None:
        current = portal.current()
        panel = self.panel
        self.button.props("loading")
        self.error.text = ""
        try:
            if self.regenerate:
                codes = await io_bound(
                    regenerate_recovery_codes,
                    current.db,
                    panel.who,
                    str(self.proof.value or ""),
                    ip_address=panel.ip_address,
                    clock=current.clock,
                )
            else:
                await io_bound(
                    disable_two_factor,
                    current.db,
                    panel.who,
                    str(self.proof.value or ""),
                    ip_address=panel.ip_address,
                    clock=current.clock,
                )
        except DomainError as error:
            self.error.text = human_message(error, now=current.clock())
            return
        finally:
            self.button.props(remove="loading")
        self.dialog.close()
        if self.regenerate:
            panel.show_codes(codes, _("Your new recovery codes"))
        else:
            ui.notify(_("Two-factor sign-in is off."), type="positive")
            await panel.reload()
