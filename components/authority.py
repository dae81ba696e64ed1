"""Authority at the moment of each action: an open page acts only while the session that opened it stands.

``api.auth.SessionGuard`` checks a page's session once, when the page is asked for. A NiceGUI page
then lives as long as its browser tab, and its handlers keep the principal they were built with,
while the session may end: a sign-out, a password change or reset, a time-out, the person disabled,
an owner made staff. So what a browser sends to a page passes through here, at one place for every
page, and no page can forget it:

- A page belongs to the session that asked for it (``Holder``: the door, customers' or staff, the
  SHA-256 of the session's token, and whether the page is the owner's only). NiceGUI routes events
  by client id, but an id is no key: a socket speaks for a page only if its handshake carried that
  session's cookie, and only a socket that handshook with a page sends it events. The page's own
  routes (/_nicegui/client/<id>/..., the uploads) also need that cookie (``PageRouteGuard``).
- An event (a click, a value, an upload, an answer to JavaScript) is handed to the page only if the
  session still stands at that moment (``services.session_standing``, off the event loop; a yes is
  trusted for a second, so a burst of events asks once). If not, nothing happens and the page goes
  to the sign-in page. Events wait their turn, so they reach the page in the order they came.
- An open page subscribes to its person's sessions topic (``services.events``), published wherever a
  session ends, in any instance: a notice has it ask at once. Time-outs announce nothing, so one sweep
  for the whole process looks every second at the time-out each open page learnt at its last check
  (and asks again for a page whose last question found the database unavailable). Either way the
  page leaves for the sign-in page about a second after its session ended, without waiting for a click.

Handlers may keep the principal they were built with for what they show; whether they may act is
decided here. ``install`` wires it in once, from app.py.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode
from weakref import WeakKeyDictionary

from nicegui import Client, app, background_tasks, core, ui
from nicegui.timer import Timer
from socketio.exceptions import ConnectionRefusedError as Refused  # type: ignore[import-untyped]
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import ADMIN_COOKIE, ADMIN_LOGIN_PATH, LOGIN_PATH, SESSION_COOKIE, SessionCheck, admin_target
from api.language import READER_STATE
from components import live
from components.offload import io_bound
from services import portal
from services.auth import safe_local_path, token_hash
from services.database_faults import is_outage
from services.events import customer_sessions_topic, staff_sessions_topic
from services.i18n import DEFAULT_LANGUAGE, N_, Reader, _, negotiate, using_language
from services.session_standing import Standing, customer_standing, staff_standing
from services.staff_auth import OWNER

SWEEP_SECONDS = 1.0  # how soon an open page leaves after its session timed out
TRUSTED_SECONDS = 1.0  # how long a yes from the database is believed without asking again
LEAVE_SECONDS = 2.0  # how long a page whose session ended has to go before it is deleted
BROWSER_LOG_LENGTH = 300  # of a message a browser reports for the server's log
BROWSER_LOGS_PER_MINUTE = 10  # per page; more are dropped
PAGE_ROUTES = "/_nicegui/client/"  # a page's own routes: /_nicegui/client/<client id>/upload/<element id>
# The plain-text 403 answer of a page's own route; translated for whoever asked (``_refused``).
REFUSED = N_("This page's session has ended, or it is not yours. Sign in again.")
# A page whose session ended while the browser was leaving it by itself (Logout's form, a link) must
# not be sent elsewhere as well: the browser would drop its own navigation ("You have signed out.") for
# ours. A page found ended by its follower, not by an event, waits up to this long for its socket to go.
BROWSER_LEAVING_SECONDS = 0.5

logger = logging.getLogger("portal.authority")
browser_log = logging.getLogger("portal.browser")


@dataclass(frozen=True)
class Door:
    """A kind of session: its cookie, its sign-in page, its check, the notice published when one ends."""

    cookie: str
    login_path: str
    standing: Callable[..., Standing | None]
    topic: Callable[[int], str]
    back_to: Callable[[str], str]  # the page to return to after signing in, made safe


CUSTOMERS = Door(SESSION_COOKIE, LOGIN_PATH, customer_standing, customer_sessions_topic, safe_local_path)
STAFF = Door(ADMIN_COOKIE, ADMIN_LOGIN_PATH, staff_standing, staff_sessions_topic, admin_target)


@dataclass(eq=False)
class Holder:
    """Whose page a NiceGUI client is, and what is known of that session now."""

    door: Door
    token_hash: str  # of the cookie the page was asked for with; never the token itself
    topic: str
    page: str  # the path (and query) the page was asked for
    needs_owner: bool = False
    seen: int | None = None  # the topic's version before the last check that said yes
    ends_at: datetime | None = None  # when the session times out unless used, as last learnt
    trusted_until: float = 0.0  # time.monotonic() until which that yes is believed
    gone: bool = False  # the page was sent to the sign-in page; nothing more reaches it
    following: bool = False
    looking: bool = False  # a follower's check is under way
    backlog: list[Callable[[], Any]] = field(default_factory=list)
    checking: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns(self, cookies: dict[str, str]) -> bool:
        """Whether these cookies carry this page's session (so they come from the browser that has it)."""
        token = cookies.get(self.door.cookie)
        return bool(token) and hmac.compare_digest(token_hash(token or ""), self.token_hash)

    def news(self, current: portal.Portal) -> bool:
        """Whether something says the session may have ended since the last yes (or there was none)."""
        return (
            self.ends_at is None
            or current.events.version(self.topic) != self.seen
            or current.clock() >= self.ends_at
        )

    def trusted(self, current: portal.Portal) -> bool:
        return time.monotonic() < self.trusted_until and not self.news(current)

    async def stands(self, *, renew: bool) -> bool:
        """Whether the session still stands (an owner's page: still as the owner); asks the database
        unless a recent yes is trusted. ``renew``: the question comes from an action, which counts as use."""
        async with self.checking:  # one question at a time; those waiting take its answer
            current = portal.current()
            if self.gone:
                return False
            if self.trusted(current):
                return True
            seen = current.events.version(self.topic)  # before asking: a notice meanwhile asks again
            standing = await io_bound(
                self.door.standing, current.db, self.token_hash, renew=renew, clock=current.clock
            )
            if standing is None or (self.needs_owner and standing.role != OWNER):
                return False
            self.seen, self.ends_at = seen, standing.ends_at
            self.trusted_until = time.monotonic() + TRUSTED_SECONDS
            return True


_holders: WeakKeyDictionary[Client, Holder | None] = WeakKeyDictionary()
_followed: WeakKeyDictionary[Client, Holder] = WeakKeyDictionary()  # the pages the sweep looks at
_sweep: asyncio.Task[None] | None = None
_sockets_guarded = False


def holder_of(client: Client) -> Holder | None:
    """The session a page belongs to, from the request that built it; None for a page open to anyone."""
    if client not in _holders:
        _holders[client] = _holder_for(client)
    return _holders[client]


def owner_only() -> None:
    """Mark the page being built as the owner's: it acts, and stays open, only while its person is one."""
    holder = holder_of(ui.context.client)
    if holder is not None:
        holder.needs_owner = True


def install() -> None:
    """Wire the checks into NiceGUI, once per app; call it again after NiceGUI's test fixture reset the app.

    Add ``PageRouteGuard`` as a middleware as well.
    """
    _guard_sockets()
    app.on_connect(_follow)  # NiceGUI's app.reset() forgets it, so added each time


def _holder_for(client: Client) -> Holder | None:
    try:
        request = client.request
    except RuntimeError:  # a client NiceGUI made without a request: not a page of ours
        return None
    staff = getattr(request.state, "staff", None)
    principal = getattr(request.state, "principal", None)
    if staff is not None:
        door, user_id = STAFF, staff.staff_user_id
    elif principal is not None:
        door, user_id = CUSTOMERS, principal.portal_user_id
    else:
        return None
    # SessionGuard resolved the person from this cookie; without one the page is owned by nobody and
    # every check fails, rather than none being made.
    token = request.cookies.get(door.cookie, "")
    asked_for = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    holder = Holder(
        door,
        token_hash(token) if token else "",
        door.topic(user_id),
        door.back_to(asked_for),
    )
    if door is CUSTOMERS:
        take_request_check(holder, getattr(request.state, "session_check", None))
    return holder


def take_request_check(holder: Holder, check: SessionCheck | None) -> None:
    """The yes of the check SessionGuard made for the page's own request counts as the holder's first, for
    as long as any yes is believed (``TRUSTED_SECONDS`` from the check), if the process heard no change
    notice at all since before that check: the page's socket then connects without asking the database
    again a moment later (a month-end burst asked twice per page)."""
    current = portal.current()
    if check is None or current.events.heard() != check.heard_before:
        return
    holder.seen = current.events.version(holder.topic)
    holder.ends_at = check.ends_at
    holder.trusted_until = check.at + TRUSTED_SECONDS


def _leave(client: Client, holder: Holder, *, wait: bool = False) -> None:
    """Send the page to its sign-in page, once, and stop it: whatever it is sent later is dropped, its
    change notices (live refreshes, the comment thread) and timers stop at once, and a moment later,
    once the browser had the time to go, the page itself is deleted, so that a tab that refuses to leave
    is sent nothing new. ``wait``: the ending was found by the page's follower, not at an event, so the
    browser may be leaving by itself already (``BROWSER_LEAVING_SECONDS``)."""
    if holder.gone:
        return
    holder.gone = True
    holder.backlog.clear()
    _followed.pop(client, None)
    if client.is_deleted:
        return
    live.stop(client)
    for element in list(client.elements.values()):
        if isinstance(element, Timer):
            element.cancel()
    target = f"{holder.door.login_path}?{urlencode({'next': holder.page, 'expired': '1'})}"
    background_tasks.create(_send_away(client, target, wait=wait), name=f"authority leave {client.id}")


async def _send_away(client: Client, target: str, *, wait: bool) -> None:
    """Navigate the page to ``target`` (unless, when ``wait``, its browser left by itself within
    ``BROWSER_LEAVING_SECONDS``), then delete it ``LEAVE_SECONDS`` later."""
    waited = 0.0
    while wait and waited < BROWSER_LEAVING_SECONDS and client.has_socket_connection:
        await asyncio.sleep(0.05)
        waited += 0.05
    if _held(client) and (client.has_socket_connection or not wait):
        with client:
            ui.navigate.to(target)
    await asyncio.sleep(LEAVE_SECONDS)
    if _held(client):
        client.delete()


def _held(client: Client) -> bool:
    """Whether NiceGUI still holds the page (an app reset, as between UI tests, lets go of every page)."""
    return not client.is_deleted and Client.instances.get(client.id) is client


def _admit(client: Client, act: Callable[[], Any]) -> None:
    """Hand an event to the page (``act``) if its session stands, after the events before it."""
    holder = holder_of(client)
    if holder is None:
        act()
        return
    if holder.gone:
        return
    if not holder.backlog and holder.trusted(portal.current()):
        act()  # at once, as NiceGUI would: nothing is waiting before it
        return
    holder.backlog.append(act)
    if len(holder.backlog) == 1:
        background_tasks.create(_work_off(client, holder), name=f"authority {client.id}", context=client)


async def _work_off(client: Client, holder: Holder) -> None:
    try:
        while holder.backlog:
            if not await holder.stands(renew=True):
                _leave(client, holder)
                return
            holder.backlog.pop(0)()
    except BaseException:
        holder.backlog.clear()  # unchecked (the database is unavailable): dropped, nothing was done
        raise


def _follow(client: Client) -> None:
    """On a page's connection: follow its session's end (once; a reconnection finds it followed).

    The page subscribes to its person's sessions topic, joins the sweep's pages, and is checked at once.
    """
    holder = holder_of(client)
    if holder is None or holder.following:
        return
    holder.following = True
    live.subscribe(client, portal.current().events, holder.topic, lambda: _look(client, holder))
    _followed[client] = holder
    _ensure_sweep()
    _look(client, holder)


def _look(client: Client, holder: Holder) -> None:
    """Have the follower check the page's session, unless a check of it is under way already."""
    if holder.gone or holder.looking:
        return
    holder.looking = True
    background_tasks.create(_check_in(client, holder), name=f"authority follow {client.id}", context=client)


async def _check_in(client: Client, holder: Holder) -> None:
    """The follower's check: asks the database only when a notice came or a time-out is due."""
    try:
        if holder.gone or not holder.news(portal.current()):
            return
        stands = await holder.stands(renew=False)  # watching is not use: it must not keep the session alive
    except Exception as error:
        if is_outage(error):
            return  # the sweep asks again in a second; a click meanwhile is what tells the person
        raise
    finally:
        holder.looking = False
    if not stands:
        _leave(client, holder, wait=True)


def _ensure_sweep() -> None:
    """One sweep per process (and per event loop: NiceGUI's tests start one for each test)."""
    global _sweep
    if _sweep is None or _sweep.done() or _sweep.get_loop() is not asyncio.get_running_loop():
        _sweep = background_tasks.create(_sweep_followed(), name="authority sweep")


async def _sweep_followed() -> None:
    """Every second, look at each followed page with news: a time-out due, a notice heard during its
    last check, or a last check that found the database unavailable. No database work for the others."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            current = portal.current()
            for client, holder in list(_followed.items()):
                if client.is_deleted or holder.gone:
                    _followed.pop(client, None)
                elif not holder.looking and holder.news(current):
                    _look(client, holder)
        except Exception:  # a bug; the sweep itself must go on, or no page would notice a time-out
            logger.exception("the session sweep failed")


# Socket.IO: NiceGUI's handlers look a client up by the id a message names and do not ask which socket
# sent it. Each is wrapped once: a handshake must carry the page's session cookie, every later
# message must come from a socket that handshook with that page, and events and answers to
# JavaScript wait for the session's check.


def _guard_sockets() -> None:
    global _sockets_guarded
    if _sockets_guarded:  # NiceGUI's server outlives its test fixture's resets
        return
    _sockets_guarded = True
    handlers = core.sio.handlers["/"]
    connect, handshake = handlers["connect"], handlers["handshake"]
    event, answer = handlers["event"], handlers["javascript_response"]
    ack = handlers["ack"]

    async def on_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> Any:
        client_ids = parse_qs(environ.get("QUERY_STRING", "")).get("client_id", [])
        client = Client.instances.get(client_ids[0]) if client_ids else None
        if client is not None and not await _may_handshake(client, environ):
            # NiceGUI's own refusal of an implicit handshake: the browser reloads the page, and
            # SessionGuard sends a page whose session ended to the sign-in page
            raise Refused("Implicit handshake failed")
        return await connect(sid, environ, auth)

    async def on_handshake(sid: str, data: Any) -> bool:
        client = Client.instances.get(data.get("client_id", "")) if isinstance(data, dict) else None
        if client is not None and not await _may_handshake(client, core.sio.get_environ(sid)):
            return False
        return bool(await handshake(sid, data))

    def on_event(sid: str, message: Any) -> None:
        if client := _sent_by(sid, message):
            _admit(client, lambda: event(sid, message))

    def on_answer(sid: str, message: Any) -> None:
        if client := _sent_by(sid, message):
            _admit(client, lambda: answer(sid, message))

    def on_ack(sid: str, message: Any) -> None:
        if _sent_by(sid, message):
            ack(sid, message)

    def on_log(sid: str, message: Any) -> None:
        if client := _sent_by(sid, message):
            _browser_log(client, message)

    handlers.update(
        connect=on_connect,
        handshake=on_handshake,
        event=on_event,
        javascript_response=on_answer,
        ack=on_ack,
        log=on_log,
    )


async def _may_handshake(client: Client, environ: dict[str, Any] | None) -> bool:
    """A socket may speak for a page only with the cookie of the session that owns it, while that
    session stands: a page that left, or a revoked cookie, cannot attach a new socket to it."""
    holder = holder_of(client)
    if holder is None:
        return True
    if holder.gone or not holder.owns(cookie_parser((environ or {}).get("HTTP_COOKIE", ""))):
        return False
    try:
        return await holder.stands(renew=False)
    except Exception as error:
        if is_outage(error):
            return False  # the page reloads and gets the portal's "temporarily unavailable" page
        raise


_browser_logs: WeakKeyDictionary[Client, list[float]] = WeakKeyDictionary()


def _browser_log(client: Client, message: dict[str, Any]) -> None:
    """What a page's browser reports (a script error) goes to the log as one short warning line.

    Anyone can open a public page and send such reports: they are never more than a warning (nothing
    grepped for as an error), cut short, with line breaks and control characters shown escaped (so no
    line of the log can be forged), and at most a few a minute per page.
    """
    now = time.monotonic()
    recent = [at for at in _browser_logs.get(client, []) if now - at < 60]
    if len(recent) >= BROWSER_LOGS_PER_MINUTE:
        return
    _browser_logs[client] = [*recent, now]
    text = str(message.get("message", ""))[:BROWSER_LOG_LENGTH]
    shown = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    level = logging.DEBUG if message.get("level") in ("debug", "info") else logging.WARNING
    browser_log.log(level, "browser of page %s: %s", client.page.path, shown)


def _sent_by(sid: str, message: Any) -> Client | None:
    """The page a message is for, if the socket that sent it handshook with that page; else None."""
    if not isinstance(message, dict):
        return None
    client = Client.instances.get(message.get("client_id", ""))
    # NiceGUI 3.18 keeps a page's handshaken sockets there (also its test fixture's simulated one)
    if client is None or sid not in client._socket_to_document_id:
        return None
    return client


def _refused(scope: Scope, page: Client | None) -> PlainTextResponse:
    """The 403 answer in the language of whoever asked: the reader ``page`` was drawn for when it is
    theirs, else their browser's (a stranger learns nothing of the page's reader), else English.

    These routes are answered for no reader in particular (``api.language.READERLESS_PREFIXES``).
    """
    request = getattr(page, "request", None)
    reader = getattr(getattr(request, "state", None), READER_STATE, None)
    if isinstance(reader, Reader):
        language = reader.language
    else:
        language = negotiate(Headers(scope=scope).get("accept-language")) or DEFAULT_LANGUAGE
    with using_language(language):
        return PlainTextResponse(_(REFUSED), status_code=403)


class PageRouteGuard:
    """A page's own routes (/_nicegui/client/<id>/..., the uploads) answer only that page's session.

    Without the cookie of the session that owns the page the answer is 403, and with it while the
    session no longer stands too (and the page leaves for the sign-in page). NiceGUI's other routes,
    its scripts and styles, stay public.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path.startswith(PAGE_ROUTES):
            client = Client.instances.get(path[len(PAGE_ROUTES) :].split("/", 1)[0])
            holder = holder_of(client) if client is not None else None
            if client is not None and holder is not None:
                if not holder.owns(Request(scope).cookies):
                    await _refused(scope, None)(scope, receive, send)
                    return
                if not await holder.stands(renew=True):
                    _leave(client, holder)
                    await _refused(scope, client)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
