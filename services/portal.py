"""The composition root's product: the settings and collaborators the pages and routes work with."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import make_url

from services import secret_key
from services.clock import Clock, utc_now
from services.database import Database, normalize_url
from services.database_faults import check_database
from services.events import SETTINGS_TOPIC, Events
from services.gateways.base import PaymentGateway
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.gateways.switch import SwitchableGateway
from services.invitations import seal_plain_links
from services.notices import choose as choose_transport
from services.payment_settings import configured_settings
from services.private_files import keep_private, read_or_create
from services.settings import Settings, SettingsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Portal:
    settings: Settings
    db: Database
    clock: Clock = field(default=utc_now)
    events: Events = field(default_factory=Events)
    gateway: PaymentGateway = field(default_factory=SandboxGateway)


_current: Portal | None = None


def install(portal: Portal) -> None:
    global _current
    _current = portal


def current() -> Portal:
    if _current is None:
        raise RuntimeError("the portal has not been started; run app.py")
    return _current


def prepare_data_dir(settings: Settings) -> Path:
    path = settings.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(
            f"Invalid setting PORTAL_DATA_DIR: cannot create {path}: {error.strerror}"
        ) from None
    if not os.access(path, os.W_OK):
        raise SettingsError(f"Invalid setting PORTAL_DATA_DIR: {path} is not writable")
    keep_private(path)  # the database and the secrets in it are the business's books
    return path


def choose_gateway(settings: Settings, db: Database | None = None) -> PaymentGateway:
    """Stripe when its secret key is set (and then every key it needs), the sandbox otherwise.

    The sandbox keeps its charges in ``db`` (in memory without one), as a real gateway keeps them on its
    servers: an attempt whose answer was lost is found there again after a restart.
    """
    if not settings.stripe_secret_key:
        return SandboxGateway(records=DatabaseRecords(db) if db is not None else None)
    for name in ("stripe_publishable_key", "stripe_webhook_secret"):
        if not getattr(settings, name):
            raise SettingsError(
                f"Invalid setting PORTAL_{name.upper()}: it must be set with PORTAL_STRIPE_SECRET_KEY"
            )
    if not settings.stripe_secret_key.startswith(("sk_", "rk_")):
        raise SettingsError("Invalid setting PORTAL_STRIPE_SECRET_KEY: a Stripe secret key starts with sk_")
    if not settings.stripe_publishable_key.startswith("pk_"):
        raise SettingsError(
            "Invalid setting PORTAL_STRIPE_PUBLISHABLE_KEY: a publishable key starts with pk_"
        )
    from services.gateways.stripe_gateway import StripeGateway  # the SDK loads only when it is used

    return StripeGateway(
        settings.stripe_secret_key,
        settings.stripe_publishable_key,
        settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
        js_url=settings.stripe_js_url,
    )


def use_configured_gateway(gateway: SwitchableGateway, db: Database, settings: Settings) -> None:
    """Use the gateway the owner chose in Settings, or the environment's when none is chosen (any more).

    At start-up, and in every instance whenever one of them saves Settings (``follow_settings``).
    """
    configured = configured_settings(db, settings)
    try:
        chosen = choose_gateway(configured, db)
    except SettingsError as error:  # keys checked when saved, so only a row edited by hand gets here
        logger.error("the gateway chosen in Settings cannot be used (%s); the environment's is", error)
        chosen = choose_gateway(settings, db)
    gateway.replace(chosen)


def switch_gateway(portal: Portal, settings: Settings) -> PaymentGateway:
    """Make the running portal use the gateway ``settings`` describe (from Settings > Payments).

    Raises ``SettingsError`` when the keys are incomplete; the running gateway is then unchanged.
    """
    chosen = choose_gateway(settings, portal.db)
    if isinstance(portal.gateway, SwitchableGateway):
        portal.gateway.replace(chosen)
    else:  # a portal built by hand (tests) with a fixed gateway: install a copy with the new one
        install(replace(portal, gateway=SwitchableGateway(chosen)))
    return chosen


Offload = Callable[..., Awaitable[object]]
"""Runs blocking work off the event loop: ``components.offload.io_bound`` (``asyncio.to_thread`` in tests)."""


class SettingsFollower:
    """Loads the gateway from the database again after each ``SETTINGS_TOPIC`` notice, from whichever
    instance saved Settings (and after notices may have been missed), one load at a time."""

    def __init__(self, portal: Portal, offload: Offload) -> None:
        self.portal, self.offload = portal, offload
        self.again = False  # a notice came while a load was running: load once more after it
        self.task: asyncio.Task[None] | None = None
        self.subscription = portal.events.subscribe(SETTINGS_TOPIC, self._notice)

    def stop(self) -> None:
        self.subscription.cancel()
        if self.task is not None:
            self.task.cancel()

    def _notice(self) -> None:
        if self.task is not None and not self.task.done():
            self.again = True
        else:
            self.task = asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        gateway = self.portal.gateway
        if not isinstance(gateway, SwitchableGateway):  # a portal built by hand with a fixed gateway
            return
        self.again = True
        while self.again:
            self.again = False
            try:
                await self.offload(use_configured_gateway, gateway, self.portal.db, self.portal.settings)
            except Exception:  # the database is away, say: the running gateway stays until the next notice
                logger.exception("the gateway could not be loaded again after a change in Settings")


def follow_settings(portal: Portal, offload: Offload) -> SettingsFollower:
    """On the event loop: from now on, follow the gateway saved in Settings by any instance."""
    return SettingsFollower(portal, offload)


def _keep_sqlite_private(database_url: str) -> None:
    """A SQLite database file and its ``-wal`` and ``-shm`` files, readable by the portal's user only."""
    url = make_url(normalize_url(database_url))
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database))
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
            keep_private(path.with_name(name))


def storage_secret(data_dir: Path) -> str:
    """The secret that signs NiceGUI's storage cookie: made on first start, kept readable by us alone."""
    return read_or_create(data_dir / "storage_secret", lambda: secrets.token_urlsafe(48).encode()).decode()


def start(settings: Settings) -> Portal:
    """Create the data folder, migrate the database and install the portal for pages and routes.

    The gateway is the environment's (``choose_gateway``), unless the owner chose one in Settings >
    Payments; either way it is a ``SwitchableGateway``, so a later choice applies without a restart, in
    every instance (``follow_settings``). Change notices travel between instances through the transport
    ``services.notices.choose`` picks; close ``Portal.events`` at shutdown.
    """
    data_dir = prepare_data_dir(settings)
    secret_key.install(data_dir, settings.secret_key)
    check_database(settings.resolved_database_url)  # one line naming the problem, not a traceback
    _keep_sqlite_private(settings.resolved_database_url)
    database = Database.from_url(settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout)
    gateway = SwitchableGateway(choose_gateway(settings, database))
    database.migrate()
    secret_key.seal_stored_secrets(database)
    seal_plain_links(database)  # set-password links that messages queued by an earlier version hold
    use_configured_gateway(gateway, database, settings)
    events = Events(choose_transport(settings, settings.resolved_database_url))
    portal = Portal(settings=settings, db=database, events=events, gateway=gateway)
    install(portal)
    return portal
