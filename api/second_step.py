"""The second step of a sign-in as POST routes: a code (or a recovery code) for the session cookie.

The password step (``api.auth``) left a challenge token in a cookie of this browser; these routes
read it from there, never from the form, so the second step can only be finished where the password
was given. A wrong code sends the browser back to the code page; a lock-out or an ended challenge to
the sign-in page.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import (
    ADMIN_CHALLENGE_COOKIE,
    ADMIN_COOKIE,
    ADMIN_LOGIN_PATH,
    ADMIN_PREFIX,
    ADMIN_VERIFY_PATH,
    CHALLENGE_COOKIE,
    LOGIN_PATH,
    SESSION_COOKIE,
    VERIFY_PATH,
    _minutes_until,
    _redirect,
    _same_origin,
    _session_cookie,
    admin_target,
    client_address,
)
from services import portal
from services.auth import safe_local_path
from services.errors import SecondStepExpired, SignInLocked, WrongTwoFactorCode
from services.two_factor import finish_required_setup, verify_second_step, verify_staff_second_step

router = APIRouter()


@router.post("/auth/verify")
def verify(request: Request, code: str = Form(""), next: str = Form("/")) -> Response:
    """A customer's second step: the code for a session; runs in a worker thread (it writes)."""
    target = safe_local_path(next)
    if not _same_origin(request):
        return _redirect(VERIFY_PATH, error="origin", next=target)
    current = portal.current()
    try:
        issued = verify_second_step(
            current.db,
            request.cookies.get(CHALLENGE_COOKIE),
            code[:40],
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
        )
    except WrongTwoFactorCode:
        return _redirect(VERIFY_PATH, error="code", next=target)
    except SignInLocked as locked:
        return _forget(_redirect(LOGIN_PATH, error="locked", minutes=_minutes_until(locked, current)), False)
    except SecondStepExpired:
        return _forget(_redirect(LOGIN_PATH, error="second_step", next=target), False)
    response = _forget(RedirectResponse(target, status_code=303), False)
    _session_cookie(response, SESSION_COOKIE, issued.token, path="/", secure=current.settings.secure_cookies)
    return response


@router.post("/admin/auth/verify")
def admin_verify(request: Request, code: str = Form(""), next: str = Form(ADMIN_PREFIX)) -> Response:
    """A staff member's second step: the code for a back-office session."""
    target = admin_target(next)
    if not _same_origin(request):
        return _redirect(ADMIN_VERIFY_PATH, error="origin", next=target)
    current = portal.current()
    try:
        issued = verify_staff_second_step(
            current.db,
            request.cookies.get(ADMIN_CHALLENGE_COOKIE),
            code[:40],
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
        )
    except WrongTwoFactorCode:
        return _redirect(ADMIN_VERIFY_PATH, error="code", next=target)
    except SignInLocked as locked:
        minutes = _minutes_until(locked, current)
        return _forget(_redirect(ADMIN_LOGIN_PATH, error="locked", minutes=minutes), True)
    except SecondStepExpired:
        return _forget(_redirect(ADMIN_LOGIN_PATH, error="second_step", next=target), True)
    return _staff_session(issued.token, target, current)


@router.post("/admin/auth/two-factor")
def admin_two_factor_done(request: Request, next: str = Form(ADMIN_PREFIX)) -> Response:
    """After a staff member set two-factor sign-in up (the owner requires it): the session."""
    target = admin_target(next)
    current = portal.current()
    if not _same_origin(request):
        return _redirect(ADMIN_LOGIN_PATH, error="origin", next=target)
    try:
        issued = finish_required_setup(
            current.db,
            request.cookies.get(ADMIN_CHALLENGE_COOKIE),
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            clock=current.clock,
        )
    except SecondStepExpired:
        return _forget(_redirect(ADMIN_LOGIN_PATH, error="second_step", next=target), True)
    return _staff_session(issued.token, target, current)


def _staff_session(token: str, target: str, current: portal.Portal) -> Response:
    response = _forget(RedirectResponse(target, status_code=303), True)
    # the same cookie, name and path as the password-only sign-in of api.auth gives
    _session_cookie(response, ADMIN_COOKIE, token, path="/", secure=current.settings.secure_cookies)
    return response


def _forget(response: Response, staff: bool) -> Response:
    """The challenge's cookie is of no more use: finished, ended or locked out."""
    if staff:
        response.delete_cookie(ADMIN_CHALLENGE_COOKIE, path=ADMIN_PREFIX, httponly=True, samesite="lax")
    else:
        response.delete_cookie(CHALLENGE_COOKIE, path="/", httponly=True, samesite="lax")
    return response
