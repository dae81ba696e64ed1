"""Each request is answered for its reader: their language, time zone and the business's locale.

Runs inside ``api.auth.SessionGuard``, so the signed-in person is known: their own choice of language
comes first, then the browser's ``Accept-Language`` (the sign-in page has only that), then the
business's default. The reader is set for the request's context (a page's build, a PDF download) and
kept in the request's state, where an open page's handlers find it again (``components.language``).
"""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import PUBLIC_PROBES
from services import portal
from services.branding import LanguageDefaults, defaults_version, language_defaults
from services.database_faults import is_outage
from services.i18n import Reader, negotiate, pick_language, reset_reader, set_reader

READER_STATE = "reader"  # request.state.reader
# Answered for no reader in particular: the probes (which must not touch the database), NiceGUI's own
# files, the REST API and the gateways' webhooks. A page's socket and uploads pass too: its handlers
# find the reader the page was drawn for (components.language).
READERLESS_PREFIXES = ("/_nicegui/", "/api/v1", "/api/docs", "/api/openapi.json", "/api/webhooks/")
DEFAULTS_SECONDS = 5.0  # how long the business's defaults are believed: a change in Settings shows this soon


class ReaderLanguage:
    """Sets the request's reader (``services.i18n``) before any page or route answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._defaults: LanguageDefaults | None = None
        self._read_at = 0.0
        self._version = -1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path in PUBLIC_PROBES or path.startswith(READERLESS_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        person = state.get("principal") or state.get("staff")
        defaults = await self._business_defaults()
        browser = Headers(scope=scope).get("accept-language")
        own = getattr(person, "language", "") or negotiate(browser)
        reader = Reader(
            language=pick_language(own, browser, defaults.language),
            time_zone=getattr(person, "time_zone", "") or defaults.time_zone,
            business_locale=defaults.locale,
            own_language=bool(own),
        )
        token = set_reader(reader)
        state[READER_STATE] = reader
        try:
            await self.app(scope, receive, send)
        finally:
            reset_reader(token)

    async def _business_defaults(self) -> LanguageDefaults:
        now = time.monotonic()
        stale = now - self._read_at > DEFAULTS_SECONDS or self._version != defaults_version()
        if self._defaults is None or stale:
            try:
                self._defaults = await run_in_threadpool(language_defaults, portal.current().db)
            except Exception as error:
                if not is_outage(error):
                    raise
                # The database is away: the last known defaults (or English in UTC) until it is back.
                return self._defaults or LanguageDefaults()
            self._read_at, self._version = now, defaults_version()
        return self._defaults
