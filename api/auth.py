"""Sign-in and sign-out as POST routes, and the middleware that requires a session everywhere else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware

from services import portal
from services.auth import ABSOLUTE_TIMEOUT, resolve_session, safe_local_path, sign_in, sign_out
from services.errors import SignInLocked, SignInRefused

SESSION_COOKIE = "portal_session"
LOGIN_PATH = "/login"
PUBLIC_PATHS = frozenset(
    {
        LOGIN_PATH,
        "/auth/login",
        "/branding/logo",
        "/favicon.ico",
        "/api/webhooks/stripe",
        "/forgot-password",  # asks for a reset link by e-mail
        "/set-password",  # the page an invitation or reset link opens; the token is the key
    }
)
PUBLIC_PREFIXES = ("/_nicegui",)

router = APIRouter()


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _same_origin(request: Request) -> bool:
    """A browser's cross-site form post names another origin; refuse it (SameSite is the first guard)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _to_login(**params: str) -> RedirectResponse:
    query = urlencode({key: value for key, value in params.items() if value})
    return RedirectResponse(f"{LOGIN_PATH}?{query}" if query else LOGIN_PATH, status_code=303)


@router.post("/auth/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    """Check the credentials and set a fresh session cookie; runs in a worker thread (bcrypt is slow)."""
    target = safe_local_path(next)
    if not _same_origin(request):
        return _to_login(error="origin", next=target)
    current = portal.current()
    try:
        issued = sign_in(
            current.db,
            email=email,
            password=password,
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
        )
    except SignInLocked as locked:
        minutes = max(1, -(-int((locked.until - current.clock()).total_seconds()) // 60))
        return _to_login(error="locked", minutes=str(minutes), next=target, email=email.strip()[:254])
    except SignInRefused:
        return _to_login(error="invalid", next=target, email=email.strip()[:254])
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=current.settings.secure_cookies,
        path="/",
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
        )
    response = _to_login(signed_out="1")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


class SessionGuard(BaseHTTPMiddleware):
    """Every path but the public ones needs a live session; pages get it as request.state.principal."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return await call_next(request)
        current = portal.current()
        token = request.cookies.get(SESSION_COOKIE)
        principal = await run_in_threadpool(resolve_session, current.db, token, clock=current.clock)
        if principal is None:
            if path.startswith("/api/"):
                return JSONResponse({"detail": "Sign in first."}, status_code=401)
            target = path + (f"?{request.url.query}" if request.url.query else "")
            response = _to_login(next=safe_local_path(target), expired="1" if token else "")
            if token:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        request.state.principal = principal
        return await call_next(request)
