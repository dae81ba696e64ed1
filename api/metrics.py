"""Prometheus metrics at ``/metrics``, for the operator's addresses alone (``PORTAL_METRICS_ALLOW``).

What an instance says about itself:

- ``portal_http_requests_total`` and ``portal_http_request_duration_seconds``: every HTTP request by
  method, route template (``/invoices/{public_id}``, never the raw path, whose ids would make a series
  each) and status, counted by ``RequestMetrics`` around the whole app;
- ``portal_nicegui_clients``: pages whose socket is connected now (``portal_nicegui_pages``: all held);
- ``portal_job_seconds_since_success{job}``: per kind of scheduled job, the seconds since a run of it
  last succeeded on any instance, as the scheduler last read it (a job that is stuck or failing grows
  it), and for the scheduler's own rounds on this instance (``scheduler``); ``portal_job_leader{job}``
  for the sticky jobs (payment settling): 1 while this instance holds the job between its runs;
- ``process_*``: memory, CPU and open files of the process.

What the database says, the same on every instance (take ``max`` across them, not ``sum``):
``portal_payments{gateway,status}``, ``portal_outbox_emails{status}`` (pending, sending, failed),
``portal_oldest_unanswered_payment_seconds`` and ``portal_oldest_waiting_email_seconds``; while the
database cannot be read they are left out and ``portal_database_up`` is 0.

Anyone else gets the 404 of a path that does not exist: the metrics name routes, job lags and payment
counts, which are nobody's business but the operator's. The address is the client's as
``api.forwarded`` resolved it, so a request relayed by a trusted proxy counts as its client's.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from nicegui import Client as PageClient
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import client_address
from services import portal
from services.background import seconds_since_success
from services.health import WorkFigures, work_figures
from services.scheduler import leaders
from services.settings import Network

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"  # a path no route serves: one series for all of them, however many are tried

disable_created_metrics()  # no *_created series: a second series per label set that says little here
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)

router = APIRouter()


@router.get(METRICS_PATH, include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The metrics in Prometheus's text format, for an allowed address; a 404 for any other."""
    if not allowed(client_address(request), portal.current().settings.metrics_allow_networks):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    snapshot = _Snapshot(
        figures=await run_in_threadpool(_database_figures),
        connected=sum(1 for client in list(PageClient.instances.values()) if client.has_socket_connection),
        pages=len(PageClient.instances),
    )
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(snapshot)
    body = generate_latest(REGISTRY) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def allowed(address: str, networks: Sequence[Network]) -> bool:
    """Whether ``address`` is in one of ``networks`` (an IPv4 address written as IPv6 counts as itself)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return any(parsed in network or (mapped is not None and mapped in network) for network in networks)


def _database_figures() -> WorkFigures | None:
    current = portal.current()
    try:
        return work_figures(current.db, current.clock())
    except Exception as error:  # the scrape still answers, saying the database is down
        logger.debug("metrics: the database could not be read: %s", error)
        return None


class _Snapshot(Collector):
    """One scrape's figures that are read, not counted: taken once, rendered once."""

    def __init__(self, *, figures: WorkFigures | None, connected: int, pages: int) -> None:
        self.figures = figures
        self.connected = connected
        self.pages = pages

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "portal_nicegui_clients", "Pages of this instance with a connected socket", value=self.connected
        )
        yield GaugeMetricFamily(
            "portal_nicegui_pages", "Pages this instance holds in memory", value=self.pages
        )
        lag = GaugeMetricFamily(
            "portal_job_seconds_since_success",
            "Seconds since the job's last run that succeeded (or since it was first armed)",
            labels=["job"],
        )
        for name, seconds in sorted(seconds_since_success().items()):
            lag.add_metric([_job_label(name)], seconds)
        yield lag
        leading = GaugeMetricFamily(
            "portal_job_leader",
            "1 while this instance holds the sticky job that only one instance runs",
            labels=["job"],
        )
        for name, elected in sorted(leaders().items()):
            leading.add_metric([_job_label(name)], 1.0 if elected else 0.0)
        yield leading
        yield GaugeMetricFamily(
            "portal_database_up",
            "1 when the database answered this scrape",
            value=int(self.figures is not None),
        )
        if self.figures is None:
            return
        payments = GaugeMetricFamily(
            "portal_payments", "Payments in the database by gateway and status", labels=["gateway", "status"]
        )
        for (gateway, status), count in sorted(self.figures.payments.items()):
            payments.add_metric([gateway, status], count)
        yield payments
        outbox = GaugeMetricFamily("portal_outbox_emails", "E-mails not sent, by status", labels=["status"])
        for status, count in sorted(self.figures.outbox.items()):
            outbox.add_metric([status], count)
        yield outbox
        yield GaugeMetricFamily(
            "portal_oldest_unanswered_payment_seconds",
            "Age of the oldest payment attempt without the gateway's final answer (0: none)",
            value=self.figures.oldest_unanswered_payment_seconds,
        )
        yield GaugeMetricFamily(
            "portal_oldest_waiting_email_seconds",
            "Age of the oldest e-mail waiting to be sent (0: none)",
            value=self.figures.oldest_waiting_email_seconds,
        )


def _job_label(name: str) -> str:
    """``E-mail sender`` -> ``e_mail_sender``: a job's name as a label value."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class RequestMetrics:
    """Counts and times every HTTP request by its route's template; wraps the whole app (``app.py``).

    A request answered before routing (a redirect to sign in, a 413, a 503) is matched against the
    routes here, so it counts under the route it asked for; a path no route serves counts as
    ``<unmatched>``. Sockets are not requests: they are counted as clients.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers for an app that fails before it starts its answer
        entry = dict(scope)

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            labels = (scope["method"], _route_template(scope, entry), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)


def _route_template(scope: Scope, entry: Scope) -> str:
    """The template of the route that served the request, else of the one it asks for (``entry``: the
    request's scope as it arrived, before routing and mounts changed it)."""
    route = scope.get("route")
    if route is not None:
        mounted = scope.get("root_path", "")[len(entry.get("root_path", "")) :]  # the REST API's /api/v1
        return mounted + str(getattr(route, "path", ""))
    app = entry.get("app")
    return _match(getattr(getattr(app, "router", None), "routes", ()), entry) or UNMATCHED


def _match(routes: Iterable[BaseRoute], scope: Scope) -> str | None:
    """The template of the first of ``routes`` that takes ``scope``; a mount's prefix for anything in it."""
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(candidate, Mount):
            return candidate.path + "/{path}"
        included = getattr(candidate, "original_router", None)  # FastAPI's router included without prefix
        if included is not None:
            return _match(included.routes, scope)
        return str(getattr(candidate, "path", "")) or None
    return None
