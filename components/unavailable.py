"""While the database is unavailable, a click on an open page says so instead of failing silently.

A page's event handlers (a click, a timer's refresh) run long after the page's request was answered, so
``api.unavailable``'s 503 cannot help them: NiceGUI hands what they raise to its exception handlers,
which log a traceback. ``install`` registers, once for the whole app, a handler that shows the person
who clicked a notification, and a log filter that puts such an error in the log as ``OutageLog``'s
one line per outage instead of a traceback per click.
"""

from __future__ import annotations

import logging

from nicegui import app, context, ui

from api.unavailable import requests_outage
from services.database_faults import is_outage
from services.i18n import N_, _

NOTICE = N_("The portal is temporarily unavailable; nothing was changed. Please try again in a moment.")


def install() -> None:
    """Hook the notice into NiceGUI's exception handlers and its log; safe to call more than once."""
    app.on_exception(_tell_who_clicked)
    nicegui_log = logging.getLogger("nicegui")
    if not any(isinstance(existing, _OneLinePerOutage) for existing in nicegui_log.filters):
        nicegui_log.addFilter(_OneLinePerOutage())


def _tell_who_clicked(error: Exception) -> None:
    if not is_outage(error):
        return
    try:
        client = context.client  # the page whose handler failed, when NiceGUI still knows it
    except RuntimeError:
        return
    if client.has_socket_connection:
        ui.notify(_(NOTICE), type="warning", position="top", timeout=8000)


class _OneLinePerOutage(logging.Filter):
    """NiceGUI logs what a handler raised with its traceback; an outage goes to ``OutageLog`` instead.

    A filter because NiceGUI's first exception handler is its own ``log.exception``: it cannot be
    unregistered, only its record kept out of the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not is_outage(error):
            return True
        requests_outage.failed(error)  # logs the outage's first line; the rest would repeat it
        return False
