"""Settings > Backups: scheduled backups, the archives in the backups folder, and "Back up now"."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.field_errors import save_form
from components.offload import io_bound
from components.settings_nav import owner_of, settings_page
from services import portal
from services.backup import BackupError, format_size
from services.backup_schedule import (
    MAX_EVERY_HOURS,
    MAX_KEEP,
    BackupsOverview,
    Schedule,
    back_up_now,
    backups_overview,
    save_schedule,
)
from services.dates import format_moment
from services.i18n import _
from services.staff_auth import StaffPrincipal

DEFAULT_EVERY_HOURS = 24


@ui.page("/admin/settings/backups")
async def settings_backups_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/backups") as content:
        if content is None:
            return
        owner = owner_of(request)
        current = portal.current()
        overview = await io_bound(backups_overview, current.db, current.settings)
        with ui.column().classes("w-full max-w-3xl gap-4"):
            ScheduleForm(owner, overview)
            ArchiveList(owner, overview)


class ScheduleForm:
    """On or off, every how many hours, and how many archives to keep; saved together."""

    def __init__(self, owner: StaffPrincipal, overview: BackupsOverview) -> None:
        self.owner = owner
        schedule = overview.schedule
        with ui.card().classes("w-full gap-3 p-4 md:p-6").props("flat bordered"):
            ui.label(_("Scheduled backups")).classes("text-lg font-medium")
            ui.label(
                _(
                    "The portal writes a backup on its own while it runs. With the schedule on, the backups "
                    "folder keeps the newest archives; older ones are deleted after each new backup."
                )
            ).classes("text-sm text-grey-7")
            self.origin = ui.label().classes("text-sm text-grey-7").mark("backup-schedule-origin")
            self.enabled = ui.switch(_("Back up automatically"), value=schedule.enabled)
            self.enabled.mark("backup-enabled")
            with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-3 w-full"):
                every = schedule.every_hours if schedule.enabled else DEFAULT_EVERY_HOURS
                self.every = _number(_("Every (hours)"), every, MAX_EVERY_HOURS, "backup-every")
                hint = _("24 is once a day, 168 once a week")
                self.every.props(f'hint="{hint}"')
                self.every.bind_enabled_from(self.enabled, "value")
                self.keep = _number(_("Keep the newest (backups)"), schedule.keep, MAX_KEEP, "backup-keep")
            self.status = ui.column().classes("w-full gap-2").mark("backup-schedule-status")
            self.notice = ui.column().classes("w-full gap-2").mark("backup-schedule-notice")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("backup-schedule-save")
        self.show(schedule)

    def show(self, schedule: Schedule) -> None:
        self.origin.text = (
            ""
            if schedule.saved_in_settings
            else _(
                "Not saved here yet: the portal follows PORTAL_BACKUP_EVERY and PORTAL_BACKUP_KEEP "
                "({schedule})."
            ).format(schedule=_describe(schedule))
        )
        self.origin.set_visibility(not schedule.saved_in_settings)
        self.status.clear()
        with self.status:
            if schedule.last_error:
                banner(
                    "negative",
                    _(
                        "The last scheduled backup failed: {last_error}. It is tried again within an hour; "
                        "Back up now shows at once whether it works."
                    ).format(last_error=schedule.last_error),
                )
            lines = []
            if schedule.enabled:
                due = schedule.next_due
                lines.append(
                    _("Next backup: {moment}").format(moment=_when(due))
                    if due
                    else _("Next backup: within a minute")
                )
            if schedule.last_succeeded_at:
                lines.append(
                    _("Last scheduled backup: {moment}").format(moment=_when(schedule.last_succeeded_at))
                )
            for line in lines:
                ui.label(line).classes("text-sm text-grey-8")

    async def save(self) -> None:
        current, owner = portal.current(), self.owner
        saved = await save_form(
            lambda: io_bound(
                save_schedule,
                current.db,
                current.settings,
                enabled=bool(self.enabled.value),
                every_hours=str(self.every.value or ""),
                keep=str(self.keep.value or ""),
                staff_user_id=owner.staff_user_id,
                clock=current.clock,
            ),
            button=self.save_button,
            notice=self.notice,
            fields={"every_hours": self.every, "keep": self.keep},
            saved=_("Scheduled backups are saved."),
        )
        if saved is not None:
            self.show(saved)


class ArchiveList:
    """The backups folder's newest archives with their time and size, and "Back up now"."""

    def __init__(self, owner: StaffPrincipal, overview: BackupsOverview) -> None:
        self.owner = owner
        with ui.card().classes("w-full gap-3 p-4 md:p-6").props("flat bordered"):
            with ui.row().classes("w-full items-center justify-between gap-2"):
                ui.label(_("Backups")).classes("text-lg font-medium")
                self.button = ui.button(_("Back up now"), icon="backup", on_click=self.back_up)
                self.button.props("unelevated no-caps").mark("backup-now")
            with ui.column().classes("w-full gap-0"):
                ui.label(_("Folder on the server")).classes("text-xs text-grey-7")
                ui.label(str(overview.directory)).classes("text-sm font-mono break-all").mark(
                    "backup-directory"
                )
            if not overview.secret_key_in_archives:
                banner(
                    "warning",
                    _(
                        "PORTAL_SECRET_KEY is set, so the backups do not hold the secret key. Keep that key "
                        "safe with them: without it, the Stripe keys and SMTP password saved in Settings "
                        "cannot be read after a restore."
                    ),
                )
            self.notice = ui.column().classes("w-full gap-2").mark("backup-notice")
            self.rows = ui.column().classes("w-full gap-0").mark("backup-archives")
            with ui.row().classes("w-full gap-x-1 gap-y-0 items-baseline text-sm text-grey-7"):
                ui.label(_("To restore one, stop the portal and run"))
                ui.label("python app.py restore FILE").classes("font-mono text-grey-9")
                ui.label(
                    _("with an empty data folder and database.")
                    if overview.database == "postgresql"
                    else _("with an empty data folder.")
                )
        self.show(overview)

    def show(self, overview: BackupsOverview) -> None:
        self.rows.clear()
        with self.rows:
            if not overview.archives:
                ui.label(_("No backups yet.")).classes("text-sm text-grey-7").mark("backup-archives-empty")
            for archive in overview.archives:
                row = ui.row().classes("w-full items-center gap-x-3 gap-y-0 py-2 border-b border-gray-200")
                row.classes("no-wrap max-sm:flex-wrap")
                with row.mark("backup-archive"):
                    ui.icon("inventory_2", size="sm").classes("text-grey-7")
                    ui.label(archive.name).classes("grow min-w-0 font-mono text-sm break-all")
                    with ui.row().classes("gap-3 text-sm text-grey-8 no-wrap max-sm:w-full max-sm:pl-9"):
                        ui.label(_when(archive.modified_at))
                        ui.label(format_size(archive.size)).classes("w-20 text-end")
            older = overview.archive_count - len(overview.archives)
            if older > 0:
                ui.label(_("and {older} older").format(older=older)).classes("text-sm text-grey-7 pt-2")

    async def back_up(self) -> None:
        current = portal.current()
        self.notice.clear()
        self.button.props("loading")
        try:
            made = await io_bound(
                back_up_now,
                current.db,
                current.settings,
                staff_user_id=self.owner.staff_user_id,
                clock=current.clock,
            )
        except BackupError as error:
            # The reason names folders, files and server tools in the operator's terms (the backup
            # command prints the same line); the sentence around it is the reader's.
            with self.notice:
                banner("negative", _("The backup could not be made: {reason}").format(reason=error))
            return
        finally:
            self.button.props(remove="loading")
        with self.notice:
            banner(
                "positive",
                _("Backup written: {name} ({format_size}).").format(
                    name=made.path.name, format_size=format_size(made.size)
                ),
            )
        self.show(await io_bound(backups_overview, current.db, current.settings))


def _number(label: str, value: int, maximum: int, mark: str) -> ui.input:
    field = ui.input(label, value=str(value)).props(
        f"outlined dense inputmode=numeric maxlength={len(str(maximum))}"
    )
    field.classes("w-full").mark(mark)
    return field


def _describe(schedule: Schedule) -> str:
    if not schedule.enabled:
        return _("off")
    # Translators: the backup schedule as the environment sets it, such as "every 24 h, keeping the newest 7".
    return _("every {hours} h, keeping the newest {count}").format(
        hours=schedule.every_hours, count=schedule.keep
    )


def _when(value: datetime) -> str:
    return format_moment(value)  # in the reader's time zone and locale
