"""What the accessibility tests share: axe-core over a page, the pages and dialogs to visit, signing in.

Each test module starts one portal and one browser, and visits its pages in sequence at the two widths
the portal is designed for (a desktop and a phone); pytest-xdist spreads the modules over the cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from services.database import Database
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

_AXE = Axe()


@dataclass(frozen=True)
class DialogCase:
    """A dialog: the page it opens on, how a person opens it (a click on a named control) and, for one
    that Escape does not close (a persistent one), how they close it."""

    name: str
    path: str
    open: Callable[[Any], None]
    close: Callable[[Any], None] | None = None


def axe_violations(page: Any, where: str, *, within: str | None = None) -> list[str]:
    """Every axe-core violation on the page as it is now (or in the part ``within`` selects), of any
    impact, one readable line each."""
    results = _AXE.run(page, context=within, options={"resultTypes": ["violations"]})
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{where}: {violation['id']} ({violation['impact']}) at {node['target']}: {summary}")
    return lines


# Resolves once nothing on the page has changed for ``quiet`` ms: what NiceGUI sends once the socket is
# connected (a page's figures and lists) has been applied, and Quasar's transitions have ended.
_QUIET = """(quiet) => new Promise((resolve) => {
    let timer;
    const done = () => { observer.disconnect(); resolve(true); };
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quiet); });
    observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    timer = setTimeout(done, quiet);
})"""
QUIET_MS = 250


def settle(page: Any) -> None:
    """Wait until the page is drawn: its heading shown, its socket connected and its updates applied.

    (Not Playwright's "networkidle": that waits half a second after the last request whatever happens, and
    cannot see what arrives over the socket.)
    """
    page.wait_for_selector("h1", timeout=15_000)
    page.wait_for_function("window.socket?.connected === true", timeout=15_000)
    page.evaluate(_QUIET, QUIET_MS)


def sign_in_customer(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=email]", CUSTOMER_EMAIL)
    page.fill("input[name=password]", CUSTOMER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def sign_in_owner(page: Any, url: str, *, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD) -> None:
    """Sign in to the back office: as the demo owner, or as another staff member."""
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")


@contextmanager
def portal_database(data_dir: Path) -> Iterator[Database]:
    """The running portal's own database, for a test to add what a page needs through the services."""
    db = Database.from_url(f"sqlite:///{data_dir / 'portal.db'}")
    try:
        yield db
    finally:
        db.engine.dispose()


def first_link(page: Any, url: str, listing: str, prefix: str) -> str:
    """The first document or client linked from a list page (their addresses carry random ids)."""
    page.goto(f"{url}{listing}")
    settle(page)
    links = page.locator(f"a[href^='{prefix}']")
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return next(href for href in hrefs if not href.endswith("/new"))


def scan_pages(page: Any, url: str, paths: list[str], where: str) -> list[str]:
    """Visit each path in turn and collect what axe finds there."""
    found: list[str] = []
    for path in paths:
        page.goto(f"{url}{path}")
        settle(page)
        found += axe_violations(page, f"{where} {path}")
    return found


def scan_dialogs(page: Any, url: str, cases: list[DialogCase], where: str) -> list[str]:
    """Open each dialog on its page, collect what axe finds with it open, and close it with Escape."""
    found: list[str] = []
    for case in cases:
        if page.url != f"{url}{case.path}":
            page.goto(f"{url}{case.path}")
            settle(page)
        case.open(page)
        page.locator("[role=dialog]").wait_for(state="visible")
        # Until Quasar's opening transition (300 ms) ends, the dialog is faded and its colours read wrong.
        page.wait_for_timeout(300)
        page.wait_for_function("() => !document.querySelector('.q-dialog [class*=q-transition--]')")
        # The page under the modal dialog is checked on its own; under the backdrop it is out of reach.
        found += axe_violations(page, f"{where} dialog {case.name!r} on {case.path}", within="[role=dialog]")
        if case.close is None:
            page.keyboard.press("Escape")
        else:
            case.close(page)
        # Gone, backdrop and all: a backdrop still fading out would dim the next dialog's colours.
        page.wait_for_function("() => !document.querySelector('.q-dialog')")
    return found


def click_button(name: str, *, exact: bool = True) -> Callable[[Any], None]:
    """Open by clicking the first visible button of that accessible name."""

    def open_it(page: Any) -> None:
        page.get_by_role("button", name=name, exact=exact).locator("visible=true").first.click()

    return open_it


def report(found: list[str]) -> str:
    return f"{len(found)} accessibility violations:\n" + "\n".join(found)
