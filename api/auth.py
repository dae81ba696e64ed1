"""Sign-in and sign-out as POST routes, and the middleware that requires a session everywhere else.

Two doors, kept apart: customers sign in at /login (cookie ``portal_session``) and the business's
staff at /admin/login (cookie ``staff_session``). ``SessionGuard`` lets a customer session open only
customer pages and a staff session only /admin pages; until the portal has its first staff account
every page leads to the setup page instead. Both cookies are for path /: an open page's socket and
uploads (/_nicegui_ws, /_nicegui/client) must carry its session's cookie (``components.authority``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from components.offload import io_bound
from services import portal
from services.auth import (
    ABSOLUTE_TIMEOUT,
    IssuedSession,
    resolve_session_until,
    safe_local_path,
    sign_in,
    sign_out,
)
from services.errors import InvalidToken, SignInLocked, SignInRefused
from services.second_step import IssuedChallenge, SecondStepRequired
from services.setup import needs_setup
from services.sign_in_links import LINK_PATH as SIGN_IN_LINK_PATH
from services.sign_in_links import sign_in_with_link
from services.staff_auth import IssuedStaffSession, resolve_staff_session, sign_in_staff, sign_out_staff

SESSION_COOKIE = "portal_session"
LOGIN_PATH = "/login"
ADMIN_COOKIE = "staff_session"  # (it was "admin_session" for path /admin: such a cookie counts as none)
ADMIN_PREFIX = "/admin"
ADMIN_LOGIN_PATH = "/admin/login"
ADMIN_PUBLIC_PATHS = frozenset(
    {
        ADMIN_LOGIN_PATH,
        "/admin/auth/login",
        "/admin/auth/logout",  # revokes the cookie it is sent, if any; harmless without one
        "/admin/login/verify",  # the second step of a sign-in: its cookie is the key
        "/admin/auth/verify",
        "/admin/login/two-factor",  # setting two-factor sign-in up, where the owner requires it
        "/admin/auth/two-factor",
    }
)
SETUP_PATH = "/setup"
PUBLIC_PATHS = frozenset(
    {
        LOGIN_PATH,
        "/auth/login",
        "/branding/logo",
        "/favicon.ico",
        "/api/webhooks/stripe",
        "/forgot-password",  # asks for a reset link by e-mail
        "/set-password",  # the page an invitation or reset link opens; the token is the key
        "/login/verify",  # the second step of a sign-in: its cookie is the key
        "/auth/verify",
        "/sign-in-by-email",  # asks for a sign-in link by e-mail
        "/sign-in-link",  # the page a sign-in link opens; the token is the key
        "/auth/sign-in-link",
        "/pay-link",  # one invoice, to pay without signing in; the link's token is the key
        "/pay-link/pdf",
        "/pay-link/receipt",  # a payment's receipt, for the link it was made through
    }
)
PUBLIC_PREFIXES = ("/_nicegui",)
# The load balancer's probes, public and answered before the first-run setup too; /metrics checks the
# client's address itself (api.health, api.metrics).
PUBLIC_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# The REST API authenticates each request by its API key, never by a cookie.
SELF_AUTHENTICATED = ("/api/v1", "/api/docs", "/api/openapi.json")

router = APIRouter()


def client_address(request: Request) -> str:
    """The client's IP address, for lock-outs and the audit log: the connection's, or what a trusted
    proxy says it is (``api.forwarded`` sets it, and ignores anyone else's forwarded headers)."""
    return request.client.host if request.client else ""


def _same_origin(request: Request) -> bool:
    """A browser's cross-site form post names another origin; refuse it (SameSite is the first guard)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _to_login(**params: str) -> RedirectResponse:
    return _redirect(LOGIN_PATH, **params)


def _to_admin_login(**params: str) -> RedirectResponse:
    return _redirect(ADMIN_LOGIN_PATH, **params)


def _redirect(path: str, **params: str) -> RedirectResponse:
    query = urlencode({key: value for key, value in params.items() if value})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def admin_target(target: str | None) -> str:
    """Where to go after a staff sign-in: a local /admin path, else the back office's home."""
    path = safe_local_path(target, default=ADMIN_PREFIX)
    return path if is_admin_path(urlsplit(path).path) else ADMIN_PREFIX


def _session_cookie(response: Response, name: str, token: str, *, path: str, secure: bool) -> None:
    response.set_cookie(
        name,
        token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path=path,
    )


@router.post("/auth/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    """Check the credentials and set a fresh session cookie; runs in a worker thread (bcrypt is slow)."""
    return _signed_in(
        request, email, password, safe_local_path(next), sign_in, _to_login, SESSION_COOKIE, "/"
    )


def _signed_in(
    request: Request,
    email: str,
    password: str,
    target: str,
    check: Callable[..., IssuedSession | IssuedStaffSession],
    to_login: Callable[..., RedirectResponse],
    cookie: str,
    path: str,
) -> Response:
    """The sign-in both kinds of login share: origin check, credentials, lock-out, then the cookie."""
    if not _same_origin(request):
        return to_login(error="origin", next=target)
    current = portal.current()
    try:
        issued = check(
            current.db,
            email=email,
            password=password,
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
            rounds=current.settings.bcrypt_rounds,
        )
    except SignInLocked as locked:
        return to_login(
            error="locked", minutes=_minutes_until(locked, current), next=target, email=email.strip()[:254]
        )
    except SignInRefused:
        return to_login(error="invalid", next=target, email=email.strip()[:254])
    except SecondStepRequired as pending:
        staff = to_login is _to_admin_login
        return second_step_redirect(
            pending.challenge, staff=staff, target=target, secure=current.settings.secure_cookies
        )
    response = RedirectResponse(target, status_code=303)
    _session_cookie(response, cookie, issued.token, path=path, secure=current.settings.secure_cookies)
    return response


@router.post("/auth/sign-in-link")
def sign_in_by_link(request: Request, token: str = Form("")) -> Response:
    """The Sign in button of the page a sign-in link opens: spend the link, set the session cookie."""
    if not _same_origin(request):
        return _to_login(error="origin")
    current = portal.current()
    secure = current.settings.secure_cookies
    try:
        issued = sign_in_with_link(
            current.db,
            token,
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
        )
    except InvalidToken as refused:
        return _redirect(SIGN_IN_LINK_PATH, error=refused.reason)
    except SecondStepRequired as pending:
        return second_step_redirect(pending.challenge, staff=False, target="/", secure=secure)
    response = RedirectResponse("/", status_code=303)
    _session_cookie(response, SESSION_COOKIE, issued.token, path="/", secure=secure)
    return response


CHALLENGE_COOKIE = "portal_second_step"  # the second step of a customer's sign-in (services.second_step)
ADMIN_CHALLENGE_COOKIE = "admin_second_step"  # and of a staff member's, for /admin paths only
VERIFY_PATH = "/login/verify"
ADMIN_VERIFY_PATH = "/admin/login/verify"
ADMIN_TWO_FACTOR_SETUP_PATH = "/admin/login/two-factor"


def second_step_redirect(challenge: IssuedChallenge, *, staff: bool, target: str, secure: bool) -> Response:
    """After a right password that is not enough: the challenge's cookie, and on to its page.

    The cookie binds the second step to this browser; it lives as long as the challenge.
    """
    if not staff:
        page, cookie, path = VERIFY_PATH, CHALLENGE_COOKIE, "/"
    elif challenge.purpose == "setup":
        page, cookie, path = ADMIN_TWO_FACTOR_SETUP_PATH, ADMIN_CHALLENGE_COOKIE, ADMIN_PREFIX
    else:
        page, cookie, path = ADMIN_VERIFY_PATH, ADMIN_CHALLENGE_COOKIE, ADMIN_PREFIX
    response = _redirect(page, next=target)
    response.set_cookie(
        cookie,
        challenge.token,
        max_age=max(1, int((challenge.expires_at - portal.current().clock()).total_seconds())),
        httponly=True,
        samesite="lax",
        secure=secure,
        path=path,
    )
    return response


@router.post("/auth/logout")
def logout(request: Request) -> Response:
    current = portal.current()
    if _same_origin(request):
        sign_out(
            current.db,
            request.cookies.get(SESSION_COOKIE),
            ip_address=client_address(request),
            clock=current.clock,
            events=current.events,
        )
    response = _to_login(signed_out="1")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _minutes_until(locked: SignInLocked, current: portal.Portal) -> str:
    return str(max(1, -(-int((locked.until - current.clock()).total_seconds()) // 60)))


@router.post("/admin/auth/login")
def admin_login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(ADMIN_PREFIX),
) -> Response:
    """Staff sign-in: the customers' rules, a cookie of its own."""
    return _signed_in(
        request,
        email,
        password,
        admin_target(next),
        sign_in_staff,
        _to_admin_login,
        ADMIN_COOKIE,
        "/",
    )


@router.post("/admin/auth/logout")
def admin_logout(request: Request) -> Response:
    current = portal.current()
    if _same_origin(request):
        sign_out_staff(
            current.db,
            request.cookies.get(ADMIN_COOKIE),
            ip_address=client_address(request),
            clock=current.clock,
            events=current.events,
        )
    response = _to_admin_login(signed_out="1")
    response.delete_cookie(ADMIN_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@dataclass(frozen=True)
class SessionCheck:
    """The request's own check of its customer session, which a page built for it may take as its first
    (``components.authority``): when, how many change notices the process had heard before it, and until
    when the session stands unless used."""

    at: float  # time.monotonic()
    heard_before: int  # services.events.Events.heard()
    ends_at: datetime


class SessionGuard:
    """Decides who may open a path; pages get the signed-in person from ``request.state``.

    In order: the REST API, NiceGUI's paths and the probes pass (the API checks its key,
    ``components.authority`` a page's own routes under /_nicegui/client, /metrics the client's address,
    the rest are public assets or probes); while no staff
    account exists every other path leads to /setup; /setup is gone afterwards; /admin paths but the
    sign-in need a staff session (``request.state.staff``); every other path but the public ones
    needs a customer session (``request.state.principal``). A cookie of the other kind counts as none.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` runs every request, assets and page
    sockets included, through a task group and memory streams of its own, which a month-end burst pays
    for on every request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._set_up = False  # once set up, always set up: stop asking the database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(Request(scope))
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    async def _refusal(self, request: Request) -> Response | None:
        """The answer for a request that may not go on; None, with the person on ``request.state``,
        for one that may."""
        path = request.url.path
        if _self_authenticated(path) or path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_PROBES:
            return None
        current = portal.current()
        if not self._set_up:
            self._set_up = not await io_bound(needs_setup, current.db)
        if not self._set_up:
            if path == SETUP_PATH or path in ("/branding/logo", "/favicon.ico"):
                return None
            if path.startswith("/api/"):
                return JSONResponse({"detail": "The portal is not set up yet."}, status_code=503)
            return RedirectResponse(SETUP_PATH, status_code=303)
        if path == SETUP_PATH:  # done for good: whoever comes here is most likely the owner
            return RedirectResponse(ADMIN_PREFIX, status_code=303)
        if is_admin_path(path):
            return await self._staff_only(request)
        if path in PUBLIC_PATHS:
            return None
        return await self._customers_only(request)

    async def _staff_only(self, request: Request) -> Response | None:
        path = request.url.path
        if path in ADMIN_PUBLIC_PATHS:
            return None
        current = portal.current()
        token = request.cookies.get(ADMIN_COOKIE)
        staff = await io_bound(resolve_staff_session, current.db, token, clock=current.clock)
        if staff is None:
            response = _to_admin_login(next=admin_target(_asked_for(request)), expired="1" if token else "")
            if token:
                response.delete_cookie(ADMIN_COOKIE, path="/")
            return response
        request.state.staff = staff
        return None

    async def _customers_only(self, request: Request) -> Response | None:
        path = request.url.path
        current = portal.current()
        token = request.cookies.get(SESSION_COOKIE)
        heard = current.events.heard()  # before asking: a notice during the check makes it count for nothing
        resolved = await io_bound(resolve_session_until, current.db, token, clock=current.clock)
        if resolved is None:
            if path.startswith("/api/"):
                return JSONResponse({"detail": "Sign in first."}, status_code=401)
            response = _to_login(next=safe_local_path(_asked_for(request)), expired="1" if token else "")
            if token:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        request.state.principal = resolved.principal
        request.state.session_check = SessionCheck(time.monotonic(), heard, resolved.ends_at)
        return None


def _asked_for(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _self_authenticated(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in SELF_AUTHENTICATED)
