"""What Home shows, read in one transaction: the dashboard, what credits can do, the credit notes they
come from, the saved methods and auto-pay.

One transaction and one trip to a database thread, with the client's balances worked out once (the
figures and the credit actions both need them): Home is the page every customer opens at month-end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.auto_pay import AutoPayView, auto_pay_view_in
from services.credit_actions import CreditOptions, options_for
from services.credit_notes import CreditNoteSummary, credit_notes_with_credit
from services.dashboard import Dashboard, dashboard_in
from services.database import Database
from services.principal import Principal
from services.saved_methods import SavedMethodView, saved_methods_in


@dataclass(frozen=True)
class HomeData:
    dashboard: Dashboard
    options: CreditOptions
    methods: tuple[SavedMethodView, ...]
    credit_notes: tuple[CreditNoteSummary, ...] = ()  # those with credit left, oldest first
    auto_pay: AutoPayView | None = None  # None without a saved method to pay with


def home_data(db: Database, principal: Principal, gateway_name: str, *, now: datetime) -> HomeData:
    with db.reading() as session:
        dashboard = dashboard_in(session, principal)
        balances = dashboard.balances
        options = options_for(session, principal.client_id, dashboard.account.currency, balances)
        methods = saved_methods_in(session, principal, gateway_name)
        return HomeData(
            dashboard,
            options,
            methods,
            credit_notes_with_credit(session, principal.client_id),
            auto_pay_view_in(session, principal.client_id, now) if methods else None,
        )
