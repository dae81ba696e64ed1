"""Statement of Accounts: the client's transactions over a period with the running balance, a summary,
the ageing of what is outstanding, a chart of the balance, and the same as a PDF to download or print.
The period lives in the URL (``?period=this_year``, ``?period=custom&start=...&end=...``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

from components.branding import business_branding
from components.frame import frame
from components.language import translated_columns
from components.offload import io_bound
from components.tables import PHONE_HIDDEN, compact_on_phone, requested_page
from components.url_params import UrlParams
from services import portal
from services.dates import format_day
from services.i18n import N_, _, ngettext, pgettext
from services.money import Money, format_money
from services.principal import Principal
from services.statement import (
    CREDIT_NOTE,
    DEFAULT_PRESET,
    INVOICE,
    PAYMENT,
    PRESET_LABELS,
    InvalidPeriod,
    Period,
    PeriodPreset,
    Statement,
    StatementLine,
    build_statement,
    period_from_query,
)

COLUMNS: list[dict[str, Any]] = [
    {"name": "day", "label": N_("Date"), "field": "day", "align": "left", **PHONE_HIDDEN},
    {"name": "description", "label": N_("Transaction"), "field": "description", "align": "left",
     "style": "white-space: normal"},
    {"name": "reference", "label": N_("Reference"), "field": "reference", "align": "left", **PHONE_HIDDEN},
    {"name": "amount", "label": N_("Amount"), "field": "amount", "align": "right"},
    {"name": "balance", "label": N_("Balance"), "field": "balance", "align": "right"},
]  # fmt: skip
TABLE_PROPS = "flat bordered dense wrap-cells"
NO_DATA = N_("No transactions.")  # Quasar's no-data-label, translated where the table is made
PAGE_SIZES = [25, 50, 100]
# On a phone the date and the reference go above and below the description, in place of their columns.
# A reference is a link to its document (the invoice, the credit note, the payment's receipt).
DESCRIPTION_CELL = """
<q-td :props="props">
  <div class="sm:hidden text-xs text-grey-7">{{ props.row.day }}</div>
  <div :class="props.row.strong ? 'font-semibold' : ''">{{ props.value }}</div>
  <div v-if="props.row.reference" class="sm:hidden text-xs text-grey-7">
    <a v-if="props.row.link" :href="props.row.link" class="text-primary">{{ props.row.reference }}</a>
    <template v-else>{{ props.row.reference }}</template>
  </div>
</q-td>
"""
REFERENCE_CELL = """
<q-td :props="props">
  <a v-if="props.row.link" :href="props.row.link" class="text-primary">{{ props.value }}</a>
  <template v-else>{{ props.value }}</template>
</q-td>
"""
DOCUMENT_PAGES = {
    INVOICE: "/invoices/{}",
    CREDIT_NOTE: "/credit-notes/{}",
    PAYMENT: "/payments/{}",
}
BALANCE_CELL = """
<q-td :props="props" :class="'tabular-nums ' + (props.row.strong ? 'font-semibold' : '')">
  {{ props.value }}
</q-td>
"""
AMOUNT_CELL = """
<q-td :props="props" :class="'tabular-nums ' + (props.row.credit ? 'text-green-9' : '')">
  {{ props.value }}
</q-td>
"""
AGEING_COLORS = ("text-grey-9", "text-brown-7", "text-deep-orange-10", "text-red-9", "text-red-10")
# The tooltip shows the day and the balance as Babel formatted them (no user text: set as HTML safely).
# The chart's axes in the page's language (<html lang>): "Okt." and "6.000" on a German page.
CHART_DAY = """(value) => {
    const day = new Date(value), lang = document.documentElement.lang || undefined;
    if (day.getMonth() === 0 && day.getDate() === 1) return String(day.getFullYear());
    const parts = day.getDate() === 1 ? {month: 'short'} : {month: 'short', day: 'numeric'};
    return new Intl.DateTimeFormat(lang, parts).format(day);
}"""
CHART_NUMBER = "(value) => new Intl.NumberFormat(document.documentElement.lang || undefined).format(value)"
CHART_TOOLTIP = "(points) => points[0].data.day + '<br><b>' + points[0].data.text + '</b>'"


@ui.page("/statement")
async def statement_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    branding = await business_branding(current.db)
    with frame(_("Statement of Accounts"), branding=branding, principal=principal, active="/statement"):
        url = UrlParams(request.query_params)
        # The period as the address gives it; period_from_query falls back or says what is wrong.
        params = {name: url.text(name, max_length=40) for name in ("period", "start", "end")}
        await StatementView(current, principal, branding.locale, params).load(params)


def url_for(period: Period, *, pdf: bool = False, download: bool = False) -> str:
    query = {**period.query(), **({"download": "1"} if download else {})}
    return ("/statement/pdf?" if pdf else "/statement?") + urlencode(query)


class StatementView:
    """The period controls, and below them the statement, drawn again whenever the period changes."""

    def __init__(
        self, current: portal.Portal, principal: Principal, locale: str, params: dict[str, str]
    ) -> None:
        """Lay out the controls, set from the URL's ``params``; ``load`` then shows the statement."""
        self.current, self.principal, self.locale = current, principal, locale
        self.lines: tuple[StatementLine, ...] = ()
        self.statement: Statement | None = None
        self.loads = 0  # a slow answer for a period no longer chosen is dropped
        preset = _preset(params.get("period", ""))
        with ui.row().classes("w-full items-end gap-3 -mt-2"):
            self.preset = (
                ui.select(
                    {p.value: _(label) for p, label in PRESET_LABELS.items()},
                    label=_("Period"),
                    value=preset.value,
                )
                .props("outlined dense options-dense")
                .classes("w-full sm:w-44")
                .mark("statement-period")
            )
            with ui.row().classes("gap-3 no-wrap max-sm:w-full") as self.custom:
                self.start = self._date_input(
                    pgettext("start of a period", "From"), params.get("start", ""), "statement-start"
                )
                self.end = self._date_input(
                    pgettext("end of a period", "To"), params.get("end", ""), "statement-end"
                )
            self.custom.bind_visibility_from(self.preset, "value", value=PeriodPreset.CUSTOM.value)
            ui.space()
            with ui.row().classes("gap-2 max-sm:w-full"):
                self.download = (
                    ui.button(_("Download PDF"), icon="download")
                    .props("outline no-caps no-wrap")
                    .classes("max-sm:flex-1")
                    .mark("statement-download")
                )
                self.print = (
                    ui.button(_("Print"), icon="print", on_click=self._print)
                    .props("outline no-caps no-wrap")
                    .classes("max-sm:flex-1")
                    .mark("statement-print")
                )
        self.error = (
            ui.label().classes("w-full rounded bg-red-1 text-red-10 p-3 -mt-2").mark("statement-error")
        )
        self.error.set_visibility(False)
        self.body = ui.column().classes("w-full gap-6")
        self.preset.on_value_change(self._on_preset)
        self.start.on_value_change(self._on_dates)
        self.end.on_value_change(self._on_dates)

    @staticmethod
    def _date_input(label: str, value: str, marker: str) -> ui.input:
        return (
            ui.input(label, value=value)
            .props("outlined dense stack-label type=date")
            .classes("w-40 max-sm:flex-1")
            .mark(marker)
        )

    async def load(self, params: dict[str, str]) -> None:
        """Show the statement of the period ``params`` name, or say what is wrong with the range."""
        self.loads += 1
        ticket = self.loads
        today = self.current.clock().date()
        try:
            period = period_from_query(params, today=today)
        except InvalidPeriod as error:
            self._refuse(error.message)
            return
        statement = await io_bound(build_statement, self.current.db, self.principal, period, today=today)
        if ticket != self.loads:
            return
        self.statement = statement
        self.error.set_visibility(False)
        self.download.props(f'href="{url_for(period, pdf=True, download=True)}"').enable()
        self.print.enable()
        if period.preset != PeriodPreset.CUSTOM:
            # The date fields start from the period shown when the customer switches to a custom range.
            self.start.set_value(period.start.isoformat())
            self.end.set_value(period.end.isoformat())
        ui.navigate.history.replace(url_for(period))
        self._draw(statement)

    def _refuse(self, message: str) -> None:
        self.statement = None
        self.error.set_text(message)
        self.error.set_visibility(True)
        self.download.disable()
        self.print.disable()
        self.body.clear()

    async def _on_preset(self, event: events.ValueChangeEventArguments) -> None:
        if event.value == PeriodPreset.CUSTOM.value:
            await self._on_dates()
        else:
            await self.load({"period": str(event.value)})

    async def _on_dates(self, _event: events.ValueChangeEventArguments | None = None) -> None:
        if self.preset.value != PeriodPreset.CUSTOM.value:
            return
        await self.load({"period": "custom", "start": self.start.value or "", "end": self.end.value or ""})

    def _print(self) -> None:
        if self.statement is None:
            return
        # The browser prints the PDF itself: load it in a hidden frame and open its print dialog.
        pdf_url = url_for(self.statement.period, pdf=True)
        ui.run_javascript(
            "const f = document.createElement('iframe'); f.style.display = 'none';"
            f"f.src = {pdf_url!r}; f.onload = () => f.contentWindow.print(); document.body.appendChild(f);"
        )

    # --- the statement -------------------------------------------------------------------------------

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    def day(self, value: date) -> str:
        return format_day(value, self.locale)

    def _draw(self, statement: Statement) -> None:
        self.lines = statement.lines
        self.body.clear()
        with self.body:
            period = statement.period
            ui.label(
                _("{label}: {dates}").format(label=period.label, dates=period.dates(self.locale))
            ).classes("text-lg font-medium text-grey-9 -mt-2").mark("statement-dates")
            self._summary(statement)
            with ui.grid().classes("w-full gap-4 grid-cols-1 lg:grid-cols-5"):
                self._chart(statement)
                self._ageing(statement)
            self._transactions(statement)

    def _summary(self, statement: Statement) -> None:
        summary = statement.summary
        figures = [
            (
                _("Opening Balance"),
                summary.opening,
                _("On {date}").format(date=self.day(statement.period.start)),
                "statement-opening",
            ),
            (_("Invoiced"), summary.invoiced, _("Invoices less voided ones"), "statement-invoiced"),
            (_("Received"), summary.received, _("Payments, retainers included"), "statement-received"),
            (_("Credited"), summary.credited, _("Credit notes less voided ones"), "statement-credited"),
            (_("Refunded"), summary.refunded, _("Paid back to you"), "statement-refunded"),
            # The closing balance, named by its day: not "Balance Due", which reads as the outstanding
            # invoices' total shown beside it (the two differ by the credits not yet applied).
            (
                _("Balance on {date}").format(date=self.day(statement.period.end)),
                summary.balance_due,
                _("Closing balance"),
                "statement-closing",
            ),
        ]
        with ui.grid().classes("w-full gap-3 grid-cols-2 md:grid-cols-3 xl:grid-cols-6"):
            for title, amount, note, marker in figures:
                closing = marker == "statement-closing"
                with (
                    ui.card()
                    .classes("w-full gap-0 p-4" + (" bg-blue-1" if closing else ""))
                    .props("flat bordered")
                    .mark(marker)
                ):
                    ui.label(title).classes("text-xs font-medium uppercase tracking-wide text-grey-7")
                    ui.label(self.money(amount)).classes(
                        "text-xl font-semibold tabular-nums "
                        + ("text-primary" if closing else "text-grey-10")
                    ).mark(f"{marker}-amount")
                    ui.label(note).classes("text-xs text-grey-7")
        counted = statement.credits_counted
        if counted is not None and counted.minor > 0:
            with ui.row().classes("w-full items-center gap-2 no-wrap text-sm text-grey-9 -mt-3"):
                ui.icon("info").classes("text-lg text-primary")
                ui.label(
                    _(
                        "Total outstanding {outstanding}, less {credits} of available credits and retainer "
                        "payments, leaves a balance of {balance}."
                    ).format(
                        outstanding=self.money(statement.outstanding),
                        credits=self.money(counted),
                        balance=self.money(statement.closing),
                    )
                ).mark("statement-reconciliation")

    def _chart(self, statement: Statement) -> None:
        # Chart coordinates are plain numbers; every amount a person reads is formatted by Babel.
        points = [
            {"value": [point.day.isoformat(), float(point.balance.to_decimal())],
             "day": self.day(point.day), "text": self.money(point.balance)}
            for point in statement.chart
        ]  # fmt: skip
        with ui.card().classes("w-full lg:col-span-3 p-4 gap-2").props("flat bordered"):
            ui.label(_("Balance over the period")).classes(
                "text-sm font-medium uppercase tracking-wide text-grey-7"
            )
            ui.echart(
                {
                    "grid": {"left": 8, "right": 16, "top": 12, "bottom": 4, "containLabel": True},
                    "tooltip": {"trigger": "axis", ":formatter": CHART_TOOLTIP},
                    "xAxis": {
                        "type": "time",
                        "splitNumber": 6,
                        # Month names and numbers as the page's language writes them, by the browser's Intl.
                        "axisLabel": {"hideOverlap": True, ":formatter": CHART_DAY},
                        "min": statement.period.start.isoformat(),
                        "max": statement.period.end.isoformat(),
                    },
                    "yAxis": {
                        "type": "value",
                        "splitLine": {"lineStyle": {"color": "#eeeeee"}},
                        "axisLabel": {":formatter": CHART_NUMBER},
                    },
                    "series": [
                        {
                            "type": "line",
                            "step": "end",
                            "data": points,
                            "showSymbol": False,
                            "lineStyle": {"color": "#1d4e89", "width": 2},
                            "areaStyle": {"color": "#1d4e89", "opacity": 0.08},
                        }
                    ],
                }
            ).classes("w-full h-56").mark("statement-chart")

    def _ageing(self, statement: Statement) -> None:
        with (
            ui.card()
            .classes("w-full lg:col-span-2 p-4 gap-2")
            .props("flat bordered")
            .mark("statement-ageing")
        ):
            ui.label(
                _("Outstanding by days past due, on {date}").format(date=self.day(statement.today))
            ).classes("text-sm font-medium uppercase tracking-wide text-grey-7")
            with ui.grid(columns="1fr auto auto").classes("w-full gap-x-4 gap-y-2 text-sm items-baseline"):
                for bucket, color in zip(statement.ageing, AGEING_COLORS, strict=True):
                    ui.label(bucket.label).classes("text-grey-8")
                    count = ngettext("{count} invoice", "{count} invoices", bucket.invoices).format(
                        count=bucket.invoices
                    )
                    ui.label(count if bucket.invoices else "").classes("text-xs text-grey-8 text-end")
                    ui.label(self.money(bucket.amount)).classes(
                        "text-end tabular-nums " + (color if bucket.amount.minor else "text-grey-8")
                    )
                ui.separator().classes("col-span-3")
                ui.label(_("Total outstanding")).classes("font-semibold col-span-2")
                ui.label(self.money(statement.outstanding)).classes(
                    "font-semibold text-end tabular-nums"
                ).mark("statement-outstanding")

    def _transactions(self, statement: Statement) -> None:
        with ui.column().classes("w-full gap-2"):
            ui.label(_("Transactions")).classes("text-lg font-semibold text-grey-9")
            table = (
                ui.table(
                    columns=translated_columns(COLUMNS),
                    rows=[],
                    row_key="id",
                    pagination=self._pagination(1, 50),
                )
                .classes("w-full")
                .props(TABLE_PROPS)
                .props(f'no-data-label="{_(NO_DATA)}"')
                .mark("statement-table")
            )
            table.props["rows-per-page-options"] = PAGE_SIZES  # a list: in a props string it is text
            compact_on_phone(table)
            table.add_slot("body-cell-description", DESCRIPTION_CELL)
            table.add_slot("body-cell-reference", REFERENCE_CELL)
            table.add_slot("body-cell-amount", AMOUNT_CELL)
            table.add_slot("body-cell-balance", BALANCE_CELL)

        def on_request(event: events.GenericEventArguments) -> None:
            wanted = requested_page(event.args, sorts=(), default_sort="")
            self._page(table, wanted["page"], wanted["page_size"])

        table.on("request", on_request)
        self._page(table, 1, 50)

    def _row_count(self) -> int:
        # Brought forward and closing balance are the first and last rows; a note says when none is between.
        return len(self.lines) + 2 if self.lines else 3

    def _pagination(self, page: int, size: int) -> dict[str, Any]:
        return {"page": page, "rowsPerPage": size, "rowsNumber": self._row_count()}

    def _page(self, table: ui.table, page: int, size: int) -> None:
        """Format only the rows of one page: a statement may have thousands."""
        statement = self.statement
        if statement is None:
            return
        size = max(1, min(size, 100))
        first = (page - 1) * size
        last = self._row_count() - 1
        rows = []
        for index in range(first, min(first + size, last + 1)):
            if index == 0:
                rows.append(
                    self._balance_row(
                        0, statement.period.start, _("Balance brought forward"), statement.opening
                    )
                )
            elif index == last:
                rows.append(
                    self._balance_row(index, statement.period.end, _("Closing balance"), statement.closing)
                )
            elif not self.lines:
                rows.append(self._note_row(index, _("No transactions in this period.")))
            else:
                rows.append(self._line_row(index, self.lines[index - 1]))
        table.rows = rows
        table.pagination = self._pagination(page, size)

    def _balance_row(self, index: int, day: date, label: str, balance: Money) -> dict[str, Any]:
        return {"id": index, "day": self.day(day), "description": label, "reference": "", "link": "",
                "amount": "", "balance": self.money(balance), "strong": True, "credit": False}  # fmt: skip

    @staticmethod
    def _note_row(index: int, text: str) -> dict[str, Any]:
        return {"id": index, "day": "", "description": text, "reference": "", "link": "", "amount": "",
                "balance": "", "strong": False, "credit": False}  # fmt: skip

    def _line_row(self, index: int, line: StatementLine) -> dict[str, Any]:
        page = DOCUMENT_PAGES.get(line.document_kind)
        return {"id": index, "day": self.day(line.day), "description": line.text(self.locale),
                "reference": line.reference, "link": page.format(line.document_id) if page else "",
                "amount": self.money(line.amount),
                "balance": self.money(line.balance), "strong": False,
                "credit": line.amount_minor < 0}  # fmt: skip


def _preset(value: str) -> PeriodPreset:
    try:
        return PeriodPreset(value)
    except ValueError:
        return DEFAULT_PRESET
