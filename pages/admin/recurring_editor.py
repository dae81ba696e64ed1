"""A recurring profile's editor (/admin/recurring/new, /admin/recurring/{id}): the client, how often and
from when, how it ends, when each invoice is due, whether it is sent or kept as a draft, and the
invoice editor's lines, taxes and discounts (``components.document_editor``, ``components.line_items``)."""

from __future__ import annotations

from fastapi import HTTPException, Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.document_editor import (
    GENERAL_PROBLEMS,
    NOT_SAVED,
    ClientField,
    EditorContext,
    NotesAndTerms,
    date_input,
    field_error,
    line_text,
    load_editor_context,
    parse_day,
    save_document,
    show_failure,
)
from components.line_items import LineItems
from components.offload import io_bound
from components.url_params import UrlParams
from models import RecurringStatus
from services import portal
from services.dates import format_day
from services.errors import NotFound
from services.i18n import _, ngettext
from services.recurring_invoices import (
    AFTER_COUNT,
    NEVER,
    ON_DATE,
    ProfileInput,
    ProfileView,
    get_profile,
    save_profile,
    status_name,
)
from services.schedules import DAY, MONTH, WEEK, YEAR
from services.staff_auth import StaffPrincipal

LIST = "/admin/recurring"


@ui.page(f"{LIST}/new")
async def new_profile_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    context = await load_editor_context(staff)
    with admin_frame(_("New recurring profile"), branding=context.branding, staff=staff, active=LIST):
        ProfileForm(staff, context, None, UrlParams(request.query_params).text("client", max_length=40))


@ui.page(f"{LIST}/{{public_id}}")
async def edit_profile_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        profile = await io_bound(get_profile, current.db, staff.organization_id, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This recurring profile does not exist.")) from None
    context = await load_editor_context(staff, profile.lines)
    title = _("Recurring profile for {client}").format(client=profile.client_name)
    with admin_frame(title, branding=context.branding, staff=staff, active=LIST):
        ProfileForm(staff, context, profile, profile.client_public_id)


class ProfileForm:
    """The profile's fields; Save creates the profile or changes the one shown (its next invoices)."""

    def __init__(
        self,
        staff: StaffPrincipal,
        context: EditorContext,
        profile: ProfileView | None,
        client_public_id: str,
    ) -> None:
        self.current = portal.current()
        self.staff, self.profile = staff, profile
        locale = self.locale = context.branding.locale
        today = context.defaults.issue_date
        if profile is not None:
            self._summary(profile)
        with ui.card().classes("w-full gap-4").props("flat bordered"):
            self.client = ClientField(context.clients, client_public_id)
            with ui.row().classes("w-full items-start gap-4"):
                with ui.column().classes("gap-0"):
                    with ui.row().classes("items-start gap-2 no-wrap"):
                        self.every = (
                            ui.input(_("Every"), value=str(profile.every) if profile else "1")
                            .props("outlined dense inputmode=numeric maxlength=3")
                            .classes("w-20")
                            .mark("every")
                        )
                        self.unit = (
                            ui.select(
                                {DAY: _("days"), WEEK: _("weeks"), MONTH: _("months"), YEAR: _("years")},
                                value=profile.unit if profile else MONTH,
                                label=_("Unit"),
                            )
                            .props("outlined dense")
                            .classes("w-36")
                            .mark("unit")
                        )
                    self.every_error = field_error("every-error")
                with ui.column().classes("gap-0 w-full sm:w-48"):
                    self.start = date_input(
                        _("First invoice on"), profile.start_date if profile else today, "start-date"
                    )
                    self.start_error = field_error("start-date-error")
                with ui.column().classes("gap-0 w-full sm:w-56"):
                    self.due_days = (
                        ui.input(
                            _("Due after (days)"),
                            value=str(profile.due_days if profile else context.defaults.payment_terms_days),
                        )
                        .props("outlined dense inputmode=numeric maxlength=3")
                        .classes("w-full")
                        .mark("due-days")
                    )
                    self.due_error = field_error("due-days-error")
            with ui.column().classes("gap-1 w-full"):
                ui.label(_("Ends")).classes("text-sm text-grey-8")
                with ui.row().classes("items-start gap-4 w-full max-sm:flex-col"):
                    self.ending = (
                        ui.radio(
                            {
                                NEVER: _("Never"),
                                ON_DATE: _("On a date"),
                                AFTER_COUNT: _("After a number of invoices"),
                            },
                            value=profile.ending if profile else NEVER,
                        )
                        .props("inline dense")
                        .mark("ending")
                    )
                    with ui.column().classes("gap-0 w-full sm:w-48") as self.end_box:
                        self.end_date = date_input(
                            _("Last invoice on or before"),
                            (profile and profile.end_date) or today,
                            "end-date",
                        )
                        self.end_error = field_error("end-date-error")
                    with ui.column().classes("gap-0 w-full sm:w-48") as self.count_box:
                        self.count = (
                            ui.input(
                                _("Number of invoices"),
                                value=str(profile.max_count) if profile and profile.max_count else "12",
                            )
                            .props("outlined dense inputmode=numeric maxlength=4")
                            .classes("w-full")
                            .mark("count")
                        )
                        self.count_error = field_error("count-error")
            with ui.column().classes("gap-1"):
                ui.label(_("Each invoice, when it is made")).classes("text-sm text-grey-8")
                self.send = (
                    ui.radio(
                        {"send": _("Send it to the customer"), "draft": _("Keep it as a draft")},
                        value="send" if profile is None or profile.send else "draft",
                    )
                    .props("inline dense")
                    .mark("send")
                )
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            ui.label(_("Items")).classes("text-lg font-medium")
            self.items = LineItems(
                currency=self.client.currency(),
                locale=locale,
                choices=context.choices,
                default_tax=context.default_tax,
                lines=[line_text(line, context.choices, profile.currency, locale) for line in profile.lines]
                if profile
                else (),
            )
        self.texts = NotesAndTerms(
            profile.notes if profile else context.defaults.notes,
            profile.terms if profile else context.defaults.terms,
        )
        self.message = ui.column().classes("w-full")
        with ui.row().classes("w-full gap-2 items-center"):
            self.save_button = (
                ui.button(_("Save profile"), icon="save", on_click=self.save)
                .props("unelevated no-caps")
                .mark("save-profile")
            )
            ui.button(_("Cancel"), on_click=lambda: ui.navigate.to(LIST)).props("flat no-caps")
        if profile is not None and profile.status == RecurringStatus.ENDED:
            self.save_button.disable()
        self.client.select.on_value_change(lambda _: self._client_changed())
        self.ending.on_value_change(lambda _: self._ending_changed())
        self._client_changed()
        self._ending_changed()

    def _summary(self, profile: ProfileView) -> None:
        with ui.row().classes("w-full items-center gap-3").mark("profile-summary"):
            ui.label(_("Status: {status}").format(status=status_name(profile.status))).classes("font-medium")
            if profile.next_run and profile.status != RecurringStatus.ENDED:
                ui.label(_("Next invoice: {day}").format(day=format_day(profile.next_run, self.locale)))
            ui.label(
                ngettext(
                    "{count} invoice made so far", "{count} invoices made so far", profile.made_count
                ).format(count=profile.made_count)
            ).classes("text-grey-8")
        if profile.made:
            with ui.row().classes("w-full items-center gap-x-3 gap-y-1").mark("profile-invoices"):
                ui.label(_("Latest invoices:")).classes("text-sm text-grey-8")
                for made in profile.made:
                    ui.link(
                        f"{made.number} ({format_day(made.run_date, self.locale)})",
                        f"/admin/invoices/{made.invoice_public_id}",
                    ).classes("text-sm text-primary")
        if profile.status == RecurringStatus.ENDED:
            banner(
                "warning",
                _("This profile has ended: it makes no more invoices and can no longer be changed."),
            )

    def _client_changed(self) -> None:
        self.client.show_currency()
        self.items.set_currency(self.client.currency())

    def _ending_changed(self) -> None:
        self.end_box.set_visibility(self.ending.value == ON_DATE)
        self.count_box.set_visibility(self.ending.value == AFTER_COUNT)

    async def save(self) -> None:
        self.message.clear()
        errors = (
            self.client.error,
            self.every_error,
            self.start_error,
            self.due_error,
            self.end_error,
            self.count_error,
        )
        for label in errors:
            label.text = ""
        lines = self.items.lines()
        if lines is None:
            show_failure(self.message, _(NOT_SAVED))
            return
        typed = ProfileInput(
            client_public_id=self.client.value,
            unit=str(self.unit.value or ""),
            every=str(self.every.value or ""),
            start_date=parse_day(self.start.value),
            ending=str(self.ending.value),
            end_date=parse_day(self.end_date.value),
            count=str(self.count.value or ""),
            due_days=str(self.due_days.value or ""),
            send=self.send.value == "send",
            lines=lines,
            notes=str(self.texts.notes.value or ""),
            terms=str(self.texts.terms.value or ""),
        )
        profile_id = self.profile.public_id if self.profile else None

        async def save() -> ProfileView:
            return await io_bound(
                save_profile,
                self.current.db,
                self.staff,
                typed,
                public_id=profile_id,
                clock=self.current.clock,
            )

        marked = {
            "client": self.client.error,
            "every": self.every_error,
            "start_date": self.start_error,
            "due_days": self.due_error,
            "end_date": self.end_error,
            "count": self.count_error,
        }
        saved = await save_document(
            save,
            button=self.save_button,
            message=self.message,
            items=self.items,
            fields=marked,
            locale=self.locale,
            general=(*GENERAL_PROBLEMS, "ending"),
        )
        if saved is not None:
            ui.navigate.to(f"{LIST}?saved={saved.public_id}")
