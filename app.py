"""Entry point: read flags and settings, migrate, optionally fill the demo, start the portal.

python app.py [--demo] [--host HOST] [--port PORT] [--data-dir DIR]
python app.py backup [--data-dir DIR] [FILE]
python app.py restore [--data-dir DIR] FILE
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from urllib.parse import quote

from nicegui import app, background_tasks, ui

from api import plain_middleware
from api.body_limit import BodyLimit
from api.forwarded import ForwardedHeaders
from api.language import ReaderLanguage
from api.metrics import RequestMetrics
from api.security_headers import SecurityHeaders
from api.unavailable import DatabaseOutageGuard
from api.url_guard import UrlGuard
from components import handler_signatures, language, offload
from components import unavailable as outage_notice
from components.offload import gateway_bound, io_bound, pdf_bound
from services import portal
from services.backup import (
    KEY_FROM_ENVIRONMENT,
    KEY_INCLUDED,
    BackupError,
    create_backup,
    format_size,
    restore_backup,
)
from services.demo import seed_demo
from services.gateways.switch import unwrap
from services.i18n.catalogues import preload_catalogues
from services.jobs import portal_jobs
from services.mailer import BackgroundSender, SmtpConfig, startup_notice
from services.pdf.fonts import preload_fonts
from services.reconciliation import Reconciler
from services.scheduler import Scheduler
from services.settings import Settings, StartupError, load_settings
from services.setup import needs_setup
from services.smtp_settings import smtp_config_provider

log = logging.getLogger("portal")

# The tab's icon (🧾), as the data address NiceGUI would otherwise make of the emoji again for every page.
FAVICON = "data:image/svg+xml," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128">'
    '<text y=".9em" font-size="112" font-family="Georgia, sans-serif">🧾</text></svg>'
)
# A month-end burst keeps hundreds of pages' elements alive at once, and Python's collector, run after
# every 700 new objects, walked all of them and everything made at start-up again and again: a fifth of
# a burst's work. Start-up's objects are put out of its way for good (``gc.freeze``) and it runs after
# 10,000 new objects; the older generations as often as before, relative to it.
COLLECTOR_THRESHOLDS = (10_000, 20, 20)


def settle_collector() -> None:
    """Start-up is over: what it made stays, and the collector stops looking at it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def parse_flags(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Invoicing portal with payments")
    parser.add_argument("--host", help="address to listen on (PORTAL_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (PORTAL_PORT, default 8080)")
    parser.add_argument("--data-dir", type=Path, help="folder for the database and secrets (PORTAL_DATA_DIR)")
    parser.add_argument(
        "--demo", action="store_true", default=None, help="fill an empty database with a demo"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    backup = commands.add_parser("backup", help="write a backup archive, also while the portal runs")
    backup.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="archive to write (default: portal-<UTC time>.tar.gz in PORTAL_BACKUP_DIR)",
    )
    restore = commands.add_parser("restore", help="restore an archive into an empty data folder and database")
    restore.add_argument("file", type=Path, help="archive written by the backup command")
    for command in (backup, restore):
        # SUPPRESS: without the flag after the command, one given before it stays
        command.add_argument(
            "--data-dir", type=Path, default=argparse.SUPPRESS, help="the data folder (PORTAL_DATA_DIR)"
        )
    return parser.parse_args(argv)


def configure(settings: Settings) -> portal.Portal:
    """The composition root: wires settings, database and routes; returns the started portal."""
    started = portal.start(settings)
    _start_scheduler(started, _mail_sender(started))
    # Every instance follows the gateway saved in Settings by any of them (services.events' SETTINGS_TOPIC).
    app.on_startup(lambda: _follow_settings(started))
    app.on_shutdown(started.events.close)  # stops listening for other instances' change notices
    # after the scheduler stops: the database file is left complete, without its write-ahead log
    app.on_shutdown(started.db.close)
    # Fonts are prepared once per process; doing it now spares the first customer's PDF the wait.
    app.on_startup(lambda: pdf_bound(preload_fonts))
    app.on_startup(lambda: io_bound(preload_catalogues))  # (the same for the words of every language)
    app.on_shutdown(offload.shut_down)  # work still queued is dropped, not run after the app has stopped
    if settings.demo:
        logins = seed_demo(started.db, clock=started.clock, password_rounds=settings.bcrypt_rounds)
        _announce_demo(settings, logins is not None)
    if needs_setup(started.db):
        print(f"First run: open {settings.public_url}/ to set up your business.", flush=True)

    # routes and pages need the portal installed first
    from api import (
        admin_documents,
        auth,
        branding,
        documents,
        health,
        metrics,
        pay_links,
        quotes,
        second_step,
        statements,
        v1,
        webhooks,
    )

    # NiceGUI's UI tests configure the same app for every test (its routes and middleware are reset
    # between tests, its lifespan is not): each include_router nests the router's (empty) lifespan in
    # the app's, and a thousand of them overflow the stack, so the app's own lifespan is kept.
    lifespan = app.router.lifespan_context
    for router in (
        admin_documents.router,
        auth.router,
        second_step.router,
        branding.router,
        documents.router,
        statements.router,
        webhooks.router,
        health.router,
        metrics.router,
        pay_links.router,
        quotes.router,
    ):
        app.include_router(router)
    app.router.lifespan_context = lifespan
    v1.mount(app)  # the REST API: /api/v1 (its own API-key check), /api/docs, /api/openapi.json
    from components import authority

    # Authority at each action: a page's events, socket and uploads only for its live session.
    if not any(middleware.cls is authority.PageRouteGuard for middleware in app.user_middleware):
        app.add_middleware(authority.PageRouteGuard)
    authority.install()
    handler_signatures.install()  # NiceGUI reads each element's handlers' signatures once, not each time
    language.install()  # a page's handlers, <html lang> and Quasar's words follow the page's reader
    # Inside the session check (added before it, so nearer the routes): the signed-in person's language.
    if not any(middleware.cls is ReaderLanguage for middleware in app.user_middleware):
        app.add_middleware(ReaderLanguage)
    if not any(middleware.cls is auth.SessionGuard for middleware in app.user_middleware):
        app.add_middleware(auth.SessionGuard)
    # Outside the session check: it answers 503 for what that check raises as well as the routes.
    if not any(middleware.cls is DatabaseOutageGuard for middleware in app.user_middleware):
        app.add_middleware(DatabaseOutageGuard)
    # Outside it: an address holding a NUL is answered 400 before any route reads it (api.url_guard).
    if not any(middleware.cls is UrlGuard for middleware in app.user_middleware):
        app.add_middleware(UrlGuard)
    # Outside it: a body over its path's limit is refused while it arrives (api.body_limit).
    if not any(middleware.cls is BodyLimit for middleware in app.user_middleware):
        app.add_middleware(BodyLimit)
    # Outside that: every response, the 413 and 503 ones too, carries the browser's defences.
    if not any(middleware.cls is SecurityHeaders for middleware in app.user_middleware):
        app.add_middleware(SecurityHeaders, https=settings.secure_cookies, stripe_js_url=_stripe_js_url)
    # Around all of those: every request counted and timed by its route (api.metrics), whatever answers it.
    if not any(middleware.cls is RequestMetrics for middleware in app.user_middleware):
        app.add_middleware(RequestMetrics)
    # Outermost of all: the client's address and scheme, from a trusted proxy's headers or the connection.
    if not any(middleware.cls is ForwardedHeaders for middleware in app.user_middleware):
        app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxy_networks)
    outage_notice.install()  # and a click on an open page says so instead of failing in silence
    import pages.access
    import pages.admin.account
    import pages.admin.client
    import pages.admin.clients
    import pages.admin.conversations
    import pages.admin.credit_notes
    import pages.admin.home
    import pages.admin.invoices
    import pages.admin.login
    import pages.admin.payments
    import pages.admin.quotes
    import pages.admin.recurring
    import pages.admin.recurring_editor
    import pages.admin.refunds
    import pages.admin.settings
    import pages.admin.settings_api_keys
    import pages.admin.settings_backups
    import pages.admin.settings_documents
    import pages.admin.settings_email
    import pages.admin.settings_payments
    import pages.admin.settings_reminders
    import pages.admin.settings_staff
    import pages.credit_note
    import pages.home
    import pages.invoice
    import pages.invoices
    import pages.login
    import pages.password
    import pages.pay
    import pages.pay_link
    import pages.payment
    import pages.payments
    import pages.quotes
    import pages.second_step
    import pages.setup
    import pages.sign_in_link
    import pages.statement  # noqa: F401 - importing registers the pages
    from pages.errors import install as install_error_pages

    install_error_pages()  # "Page not found" and "Something went wrong" in the portal's own frame
    return started


def _start_scheduler(started: portal.Portal, sender: BackgroundSender) -> Scheduler:
    """Run the portal's jobs (``services.jobs``: the outbox, payment settling, backups, reminders) on the
    scheduler, which runs each on one instance at a time; stopped, it hands its sticky jobs on at once."""
    reconciler = Reconciler(started.db, started.gateway, clock=started.clock, events=started.events)
    # The offloads pass a shutdown's cancellation on (NiceGUI's run.io_bound returns None), so a run
    # ends at once; settling asks the gateway, so a gateway slow to answer holds gateway threads only.
    jobs = portal_jobs(
        started.db,
        started.settings,
        sender=sender,
        reconciler=reconciler,
        clock=started.clock,
        io_offload=io_bound,
        gateway_offload=gateway_bound,
    )
    scheduler = Scheduler(started.db, jobs, clock=started.clock)
    app.on_startup(lambda: background_tasks.create(scheduler.run(), name="scheduler"))
    app.on_shutdown(scheduler.stop)
    app.on_shutdown(scheduler.release)  # another instance takes payment settling over at its next round
    return scheduler


_settings_follower: portal.SettingsFollower | None = None


def _follow_settings(started: portal.Portal) -> None:
    """On the event loop at start-up; kept here, as the notices hold their subscribers weakly."""
    global _settings_follower
    if _settings_follower is not None:  # NiceGUI's UI tests start the app once per test
        _settings_follower.stop()
    _settings_follower = portal.follow_settings(started, io_bound)


def _stripe_js_url() -> str | None:
    """Stripe.js's URL while the Stripe gateway is on (it can be switched at any time), else None."""
    gateway = unwrap(portal.current().gateway)
    return getattr(gateway, "js_url", None) if gateway.name == "stripe" else None


def _mail_sender(started: portal.Portal) -> BackgroundSender:
    """The outbox's sender (the scheduler's ``outbox`` job), through the server set in Settings, else the
    environment's.

    The sender asks for the server on every round, so one saved in Settings applies without a restart;
    while neither is set, messages wait in the outbox.
    """
    environment = SmtpConfig.from_settings(started.settings)  # a wrong PORTAL_SMTP_* stops the start
    provider = smtp_config_provider(started.db, fallback=environment)
    notice = startup_notice(provider())
    if notice:
        print(notice, flush=True)
    return BackgroundSender(started.db, provider, clock=started.clock)


def _announce_demo(settings: Settings, filled: bool) -> None:
    from services.demo import (
        CUSTOMER_EMAIL,
        CUSTOMER_PASSWORD,
        OTHER_CUSTOMER_EMAIL,
        OWNER_EMAIL,
        OWNER_PASSWORD,
    )

    state = "Demo data added." if filled else "The database already has data; no demo data was added."
    print(
        f"{state}\n"
        f"  Portal:           {settings.public_url}/\n"
        f"  Customer login:   {CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}\n"
        f"  Second customer:  {OTHER_CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}\n"
        f"  Business owner:   {OWNER_EMAIL} / {OWNER_PASSWORD}",
        flush=True,
    )


def backup_command(flags: argparse.Namespace) -> int:
    """``backup`` and ``restore``: one service call, then what it did or one line saying why not."""
    try:
        settings = load_settings(data_dir=getattr(flags, "data_dir", None))
        if flags.command == "backup":
            made = create_backup(settings, flags.file)
            print(f"Backup written: {made.path} ({format_size(made.size)})")
            key = made.manifest.secret_key
            if key == KEY_FROM_ENVIRONMENT:
                print(
                    "The secret key is not in the archive: PORTAL_SECRET_KEY is set. Keep that key with the "
                    "archive; without it the Stripe keys and SMTP password saved in Settings cannot be read."
                )
            elif key != KEY_INCLUDED:
                print("The data folder has no secret key yet, so the archive holds none.")
        else:
            restored = restore_backup(settings, flags.file)
            manifest = restored.manifest
            print(f"Restored the backup of {manifest.created_at:%Y-%m-%d %H:%M UTC} into {restored.data_dir}")
            if manifest.secret_key != KEY_INCLUDED:
                print(
                    "The archive holds no secret key: set PORTAL_SECRET_KEY to the key the portal used "
                    "when the backup was made."
                )
            if restored.migrates:
                print(
                    f"Its database is at revision {manifest.revision}; the portal's next start migrates it "
                    f"to {restored.code_revision}."
                )
    except (StartupError, BackupError) as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def main() -> None:
    simulated = os.environ.get("NICEGUI_USER_SIMULATION") == "true"  # NiceGUI's test fixture runs this file
    flags = parse_flags([] if simulated else sys.argv[1:])
    if flags.command is not None:
        raise SystemExit(backup_command(flags))
    try:
        settings = load_settings(host=flags.host, port=flags.port, data_dir=flags.data_dir, demo=flags.demo)
        started = configure(settings)
        secret = portal.storage_secret(settings.data_dir.resolve())
    except StartupError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    plain_middleware.install()  # before ui.run adds NiceGUI's own
    if not simulated:  # (the test fixture's process keeps its own collector settings: tests/conftest.py)
        app.on_startup(settle_collector)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="Invoicing Portal",
        storage_secret=secret,
        reload=False,
        show=False,
        show_welcome_message=False,
        favicon=FAVICON,
        proxy_headers=False,  # uvicorn's would believe X-Forwarded-For from 127.0.0.1: api.forwarded decides
    )
    if not simulated:  # (under NiceGUI's test fixture ui.run returns at once, and the test goes on)
        # Requests that ended after the shutdown's close may have written since: close once more.
        started.db.close()
    del started


if __name__ in {"__main__", "__mp_main__"}:
    main()
