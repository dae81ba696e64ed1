"""Errors as RFC 9457 problem details (``application/problem+json``), one place for every status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.unavailable import RETRY_AFTER_SECONDS
from services.errors import (
    AmountExceedsBalance,
    AmountTooLarge,
    ApiKeyRefused,
    ContactHasLogin,
    CurrencyFixed,
    DocumentHasApplications,
    DomainError,
    EmailTaken,
    InvalidDetails,
    InvalidStatusChange,
    InvoiceNotPayable,
    NotFound,
    PaymentInProgress,
    human_message,
)
from services.money import CurrencyMismatch, UnknownCurrency
from services.totals import InvalidLine

log = logging.getLogger("portal.api")
PROBLEM_TYPE = "urn:invoicing-portal:problem:"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}
CONFLICTS = (
    InvalidStatusChange,
    DocumentHasApplications,
    InvoiceNotPayable,
    CurrencyFixed,
    ContactHasLogin,
    EmailTaken,
    PaymentInProgress,
)


class FieldError(BaseModel):
    field: str  # where the value is: "body.lines.0.quantity", "query.limit", "currency"
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ApiProblem(Exception):
    """Raised by the API layer itself (a malformed cursor, a missing key)."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": TITLES[status]}
    for status in (400, 401, 403, 404, 409, 422)
}


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(type=PROBLEM_TYPE + slug, title=TITLES.get(status, "Error"), status=status, detail=detail)
    if errors is not None:
        body.errors = errors
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def unauthorized() -> JSONResponse:
    return problem_response(
        401, "unauthorized", human_message(ApiKeyRefused()), headers={"WWW-Authenticate": "Bearer"}
    )


def read_only_key() -> JSONResponse:
    """The answer to a write with a key that may only read (its scope is ``read``)."""
    return problem_response(
        403,
        "read-only-key",
        "This API key may only read (GET). Ask the owner for a key that may read and write.",
    )


def database_unavailable(_request: Request) -> JSONResponse:
    """The answer to a request the database's absence failed (``api.unavailable.DatabaseOutageGuard``)."""
    return problem_response(
        503,
        "database-unavailable",
        "The portal is temporarily unavailable; nothing was changed. Try again in a moment.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def domain_problem(error: Exception) -> JSONResponse:
    """The status and wording for a refusal of the domain."""
    detail = human_message(error)
    match error:
        case ApiKeyRefused():
            return unauthorized()
        case NotFound():
            return problem_response(404, "not-found", detail)
        case InvalidDetails(errors=fields):
            errors = [FieldError(field=field, message=message) for field, message in fields.items()]
            return problem_response(422, "invalid-details", detail, errors=errors)
        case InvalidLine(position=position, field=field):
            errors = [FieldError(field=f"lines.{position - 1}.{field.replace(' ', '_')}", message=detail)]
            return problem_response(422, "invalid-line", detail, errors=errors)
        case AmountTooLarge(field=field):
            errors = [FieldError(field=field, message=detail)]
            return problem_response(422, "amount-too-large", detail, errors=errors)
        case AmountExceedsBalance():
            return problem_response(422, "amount-exceeds-balance", detail)
        case UnknownCurrency() | CurrencyMismatch():
            return problem_response(422, "invalid-currency", detail)
        case _ if isinstance(error, CONFLICTS):
            return problem_response(409, type(error).__name__.lower(), detail)
        case _:
            return problem_response(422, type(error).__name__.lower(), detail)


def install_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblem)  # noqa: S101 - registered for this type only
        if error.status == 401:
            return unauthorized()
        return problem_response(error.status, error.slug, error.detail)

    async def on_domain(_request: Request, error: Exception) -> JSONResponse:
        return domain_problem(error)

    async def on_validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return problem_response(400, "malformed-json", "The request body is not valid JSON.")
        errors = [
            FieldError(
                field=".".join(str(part) for part in problem.get("loc", ())), message=str(problem["msg"])
            )
            for problem in problems
        ]
        count = len(errors)
        detail = f"Nothing was changed: {count} value{'s are' if count != 1 else ' is'} not valid."
        return problem_response(422, "validation-failed", detail, errors=errors)

    async def on_http(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for this type only
        slug = TITLES.get(error.status_code, "error").lower().replace(" ", "-")
        return problem_response(error.status_code, slug, str(error.detail), headers=dict(error.headers or {}))

    async def on_crash(_request: Request, error: Exception) -> JSONResponse:
        log.exception("API request failed", exc_info=error)
        return problem_response(
            500, "internal-error", "Something went wrong on the server; the error was logged."
        )

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    for error_type in (InvalidLine, UnknownCurrency, CurrencyMismatch):
        app.add_exception_handler(error_type, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
