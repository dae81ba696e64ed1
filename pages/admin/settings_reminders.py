"""Settings > Reminders (/admin/settings/reminders): when payment reminders go out, and their wording in
each language."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.banner import banner
from components.field_errors import save_form, show_field_errors
from components.headings import section_heading
from components.offload import io_bound
from components.settings_nav import owner_of, settings_page
from services import portal
from services.dates import format_moment
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import _, current_language, formatting_locale
from services.language_settings import language_choices
from services.late_fees import (
    FIXED,
    MAX_FIXED,
    MAX_PERCENT,
    NONE,
    PERCENT,
    LateFee,
    get_late_fee,
    percent_text,
    save_late_fee,
)
from services.reminders import (
    BEFORE,
    MAX_BODY_LENGTH,
    MAX_DAYS_AFTER,
    MAX_RULES,
    MAX_SUBJECT_LENGTH,
    SEND_HOUR,
    STAGES,
    WHEN_AFTER,
    WHEN_BEFORE,
    WHEN_ON,
    ReminderSetup,
    ReminderWording,
    RuleInput,
    get_reminder_setup,
    get_reminder_text,
    restore_reminder_text,
    save_reminder_setup,
    save_reminder_text,
    stage_name,
)
from services.staff_auth import StaffPrincipal

PATH = "/admin/settings/reminders"


@ui.page(PATH)
async def settings_reminders_page(request: Request) -> None:
    async with settings_page(request, PATH) as content:
        if content is None:
            return
        current = portal.current()
        owner = owner_of(request)
        setup = await io_bound(get_reminder_setup, current.db, owner.organization_id)
        languages = language_choices()
        language = current_language() if current_language() in languages else next(iter(languages))
        late_fee = await io_bound(get_late_fee, current.db, owner.organization_id)
        wording = await io_bound(get_reminder_text, current.db, owner.organization_id, language, BEFORE)
        with ui.column().classes("w-full max-w-3xl gap-4"):
            RulesForm(current, owner, setup)
            LateFeeForm(current, owner, late_fee)
            TextsForm(current, owner, wording, languages)


class RulesForm:
    """On or off, and the days reminders go out, each before, on or after the due date; saved together."""

    def __init__(self, current: portal.Portal, owner: StaffPrincipal, setup: ReminderSetup) -> None:
        self.current, self.owner = current, owner
        self.rows: list[RuleRow] = []
        with ui.card().classes("w-full gap-3 p-4 md:p-6").props("flat bordered"):
            section_heading(_("Payment reminders"))
            ui.label(
                _(
                    "E-mails that remind customers of an invoice coming due or overdue, with its PDF and a "
                    "link to pay it online. Each reminder is sent once per invoice, and never for a paid, "
                    "void or draft invoice or one whose payment is on its way."
                )
            ).classes("text-sm text-grey-7")
            ui.label(
                _("They go out every morning from {hour} ({time_zone}, the business's time zone).").format(
                    hour=f"{SEND_HOUR}:00", time_zone=setup.time_zone
                )
            ).classes("text-sm text-grey-7").mark("reminders-when")
            self.enabled = ui.switch(_("Send payment reminders"), value=setup.enabled).mark(
                "reminders-enabled"
            )
            with ui.column().classes("w-full gap-0 mt-2"):
                ui.label(_("Send a reminder")).classes("text-sm font-medium text-grey-9")
                ui.label(_("Days are counted from each invoice's due date.")).classes("text-sm text-grey-7")
            self.list = ui.column().classes("w-full gap-2").mark("reminder-rules")
            self.list_error = ui.label().classes("text-sm text-negative").mark("reminder-rules-error")
            self.list_error.props("role=alert")
            self.add_button = ui.button(_("Add a reminder"), icon="add", on_click=self.add).props(
                "outline no-caps"
            )
            self.add_button.mark("reminder-add")
            self.status = ui.column().classes("w-full gap-1").mark("reminders-status")
            self.notice = ui.column().classes("w-full gap-2").mark("reminders-notice")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("reminders-save")
        self.show(setup)

    def show(self, setup: ReminderSetup) -> None:
        self.draw([RuleInput(rule.when, rule.days) for rule in setup.rules])
        self.status.clear()
        with self.status:
            if setup.last_error:
                banner(
                    "negative",
                    _("The last run of the reminders failed: {error}. It is tried again shortly.").format(
                        error=setup.last_error
                    ),
                )
            if setup.enabled and setup.next_run is not None:
                ui.label(_("Next run: {moment}").format(moment=format_moment(setup.next_run))).classes(
                    "text-sm text-grey-8"
                )
            if setup.last_run is not None:
                ui.label(_("Last run: {moment}").format(moment=format_moment(setup.last_run))).classes(
                    "text-sm text-grey-8"
                )

    def draw(self, rules: list[RuleInput]) -> None:
        self.list.clear()
        self.rows = []
        with self.list:
            if not rules:
                ui.label(_("No reminders yet.")).classes("text-sm text-grey-7")
            for index, rule in enumerate(rules):
                self.rows.append(RuleRow(self, index, rule))
        self.add_button.set_enabled(len(rules) < MAX_RULES)
        self.list_error.text = ""

    def typed(self) -> list[RuleInput]:
        return [row.value() for row in self.rows]

    def add(self) -> None:
        rules = self.typed()
        taken = {(rule.when, rule.days.strip()) for rule in rules}
        suggestion = next(
            (
                RuleInput(WHEN_AFTER, str(days))
                for days in (7, 14, 30, 60, 90)
                if (WHEN_AFTER, str(days)) not in taken
            ),
            RuleInput(WHEN_AFTER, ""),
        )
        self.draw([*rules, suggestion])

    def remove(self, index: int) -> None:
        rules = self.typed()
        del rules[index]
        self.draw(rules)

    async def save(self) -> None:
        current, owner = self.current, self.owner
        rules = self.typed()

        async def attempt() -> ReminderSetup:
            try:
                return await io_bound(
                    save_reminder_setup,
                    current.db,
                    owner,
                    enabled=bool(self.enabled.value),
                    rules=rules,
                    clock=current.clock,
                )
            except InvalidDetails as error:
                self.list_error.text = error.errors.get("rules", "")
                raise

        self.list_error.text = ""
        saved = await save_form(
            attempt,
            button=self.save_button,
            notice=self.notice,
            fields={f"rules.{row.index}": row.days for row in self.rows},
            saved=_("The reminders are saved.") if self.enabled.value else _("Reminders are off."),
        )
        if saved is not None:
            self.show(saved)


class LateFeeForm:
    """The optional late fee: none, a fixed amount or a percentage of the overdue balance; once or monthly."""

    def __init__(self, current: portal.Portal, owner: StaffPrincipal, fee: LateFee) -> None:
        self.current, self.owner = current, owner
        with ui.card().classes("w-full gap-3 p-4 md:p-6").props("flat bordered"):
            section_heading(_("Late fee"))
            ui.label(
                _(
                    "A fee charged on an overdue invoice as a separate invoice, numbered like the others and "
                    "e-mailed to the customer: the day after the due date, and if you choose, again each "
                    "month while the invoice stays unpaid. It is added by the reminders' daily run, so only "
                    "while reminders are on, and never for a client excluded from reminders."
                )
            ).classes("text-sm text-grey-7")
            with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-3 w-full"):
                self.kind = ui.select(
                    {
                        NONE: _("No late fee"),
                        FIXED: _("A fixed amount"),
                        PERCENT: _("A percentage of the balance"),
                    },
                    value=fee.kind,
                    label=_("Late fee"),
                )
                self.kind.props("outlined dense").classes("w-full sm:col-span-2").mark("late-fee-kind")
                self.value = ui.input(_("Amount or percentage"), value=_value_text(fee)).props(
                    "outlined dense inputmode=decimal maxlength=12"
                )
                self.value.classes("w-full").mark("late-fee-value")
                self.repeat = ui.select(
                    {"once": _("Once"), "monthly": _("Every month while overdue")},
                    value="monthly" if fee.monthly else "once",
                    label=_("How often"),
                )
                self.repeat.props("outlined dense").classes("w-full").mark("late-fee-repeat")
            self.hint = ui.label().classes("text-sm text-grey-8").mark("late-fee-hint")
            self.notice = ui.column().classes("w-full gap-2").mark("late-fee-notice")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save late fee"), on_click=self.save).props(
                    "unelevated no-caps"
                )
                self.save_button.mark("late-fee-save")
        self.fields = {"late_fee_kind": self.kind, "late_fee_value": self.value}
        self.kind.on_value_change(self._show_kind)
        self._show_kind()

    def _show_kind(self) -> None:
        kind = self.kind.value
        self.value.set_visibility(kind != NONE)
        self.repeat.set_visibility(kind != NONE)
        self.hint.text = {
            FIXED: _("In each invoice's own currency, up to {limit}.").format(limit=MAX_FIXED),
            PERCENT: _("Of the invoice's balance on that day, up to {limit}.").format(
                limit=percent_text(MAX_PERCENT, formatting_locale())
            ),
        }.get(str(kind), "")

    async def save(self) -> None:
        current, owner = self.current, self.owner
        saved = await save_form(
            lambda: io_bound(
                save_late_fee,
                current.db,
                owner,
                kind=str(self.kind.value or ""),
                value=str(self.value.value or ""),
                monthly=self.repeat.value == "monthly",
                clock=current.clock,
            ),
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("The late fee is saved.") if self.kind.value != NONE else _("No late fee is charged."),
        )
        if saved is not None:
            self.value.value = _value_text(saved)


def _value_text(fee: LateFee) -> str:
    return format(fee.value.normalize(), "f") if fee.enabled else ""


class RuleRow:
    """One reminder: how many days, and before, on or after the due date; with its Remove button."""

    def __init__(self, form: RulesForm, index: int, rule: RuleInput) -> None:
        self.index = index
        with ui.row().classes("w-full items-start gap-2 no-wrap").mark(f"reminder-rule-{index}"):
            self.days = ui.input(_("Days"), value=rule.days).props(
                f"outlined dense hide-bottom-space inputmode=numeric maxlength={len(str(MAX_DAYS_AFTER))}"
            )
            self.days.classes("w-16 shrink-0").mark(f"reminder-days-{index}")
            choices = {
                WHEN_BEFORE: _("days before"),
                WHEN_ON: _("on the due date"),
                WHEN_AFTER: _("days after"),
            }
            self.when = ui.select(choices, value=rule.when, label=_("When"))
            self.when.props("outlined dense hide-bottom-space").classes("grow min-w-0 sm:max-w-xs")
            self.when.mark(f"reminder-when-{index}")
            named = _("Remove this reminder")
            remove = ui.button(icon="delete", on_click=lambda: form.remove(index))
            remove.props(f'flat round dense color=negative aria-label="{named}"')
            remove.classes("mt-1").mark(f"reminder-remove-{index}")
        # "On the due date" takes no number: the field keeps its place, out of sight and out of reach.
        self.when.on_value_change(self._show_days)
        self._show_days()
        show_field_errors({"days": self.days}, {})

    def _show_days(self) -> None:
        if self.when.value == WHEN_ON:
            self.days.classes(add="invisible")
        else:
            self.days.classes(remove="invisible")

    def value(self) -> RuleInput:
        when = str(self.when.value or "")
        return RuleInput(when, "" if when == WHEN_ON else str(self.days.value or ""))


class TextsForm:
    """A reminder's subject and text in one language; the portal's own until the owner saves theirs."""

    def __init__(
        self,
        current: portal.Portal,
        owner: StaffPrincipal,
        wording: ReminderWording,
        languages: dict[str, str],
    ) -> None:
        self.current, self.owner = current, owner
        with ui.card().classes("w-full gap-3 p-4 md:p-6").props("flat bordered"):
            section_heading(_("Reminder texts"))
            ui.label(
                _(
                    "Each customer gets reminders in their own language. Below your text, the e-mail adds "
                    "the link to pay online, the link to the invoice in the portal, and the invoice's PDF."
                )
            ).classes("text-sm text-grey-7")
            with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-3 w-full"):
                self.language = ui.select(languages, value=wording.language, label=_("Language"))
                self.language.props("outlined dense").classes("w-full").mark("reminder-text-language")
                self.stage = ui.select(
                    {stage: stage_name(stage) for stage in STAGES}, value=wording.stage, label=_("Reminder")
                )
                self.stage.props("outlined dense").classes("w-full").mark("reminder-text-stage")
            self.origin = ui.label().classes("text-sm text-grey-8").mark("reminder-text-origin")
            self.subject = ui.input(_("Subject")).props(f"outlined dense maxlength={MAX_SUBJECT_LENGTH}")
            self.subject.classes("w-full").mark("reminder-text-subject")
            self.body = ui.textarea(_("Text")).props(f"outlined autogrow maxlength={MAX_BODY_LENGTH}")
            self.body.classes("w-full").mark("reminder-text-body")
            with ui.column().classes("w-full gap-0 text-sm text-grey-8").mark("reminder-placeholders"):
                ui.label(_("These are filled in for each invoice:"))
                for name, meaning in (
                    ("client", _("the client's name")),
                    ("business", _("your business's name")),
                    ("number", _("the invoice's number")),
                    ("amount", _("the amount still due")),
                    ("due_date", _("the due date")),
                    ("days", _("the days until or since the due date")),
                ):
                    with ui.row().classes("gap-2 items-baseline no-wrap"):
                        ui.label("{" + name + "}").classes("font-mono text-grey-10")
                        ui.label(meaning)
            self.notice = ui.column().classes("w-full gap-2").mark("reminder-text-notice")
            with ui.row().classes("w-full justify-end gap-2"):
                self.restore_button = ui.button(_("Use the portal's text"), on_click=self.restore)
                self.restore_button.props("flat no-caps").mark("reminder-text-restore")
                self.save_button = ui.button(_("Save text"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("reminder-text-save")
        self.fields = {"subject": self.subject, "body": self.body}
        self.fill(wording)
        self.language.on_value_change(self.load)
        self.stage.on_value_change(self.load)

    def fill(self, wording: ReminderWording) -> None:
        self.subject.value = wording.subject
        self.body.value = wording.body
        self.origin.text = _("The portal's own text.") if wording.is_default else _("Your own text.")
        self.restore_button.set_visibility(not wording.is_default)
        show_field_errors(self.fields, {})

    async def load(self) -> None:
        self.notice.clear()
        wording = await io_bound(
            get_reminder_text,
            self.current.db,
            self.owner.organization_id,
            str(self.language.value),
            str(self.stage.value),
        )
        self.fill(wording)

    async def save(self) -> None:
        current, owner = self.current, self.owner
        saved = await save_form(
            lambda: io_bound(
                save_reminder_text,
                current.db,
                owner,
                language=str(self.language.value),
                stage=str(self.stage.value),
                subject=str(self.subject.value or ""),
                body=str(self.body.value or ""),
                clock=current.clock,
            ),
            button=self.save_button,
            notice=self.notice,
            fields=self.fields,
            saved=_("The text is saved."),
        )
        if saved is not None:
            self.fill(saved)

    async def restore(self) -> None:
        current = self.current
        self.notice.clear()
        try:
            restored = await io_bound(
                restore_reminder_text,
                current.db,
                self.owner,
                language=str(self.language.value),
                stage=str(self.stage.value),
                clock=current.clock,
            )
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            return
        self.fill(restored)
        with self.notice:
            banner("positive", _("The portal's own text is used again."))
