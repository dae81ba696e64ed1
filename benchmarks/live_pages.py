"""What does an open page cost the portal while nobody touches it?

Starts ``python app.py --demo`` on a free port with a fresh data folder, signs the demo customer in,
and opens ``--pages`` Home pages, each with its own Socket.IO connection as a browser tab makes it
(NiceGUI keeps a page only while its socket is connected). It then prints the server's resident
memory per connected page and the CPU it uses while every page sits idle, and checks that no
connection was dropped.

    python benchmarks/live_pages.py [--pages 300] [--idle 10] [--root DIR]

``--root`` runs another checkout of the portal (to compare with an earlier commit: ``git archive``
it into a folder). ``measure`` is the part a larger load script can reuse with a portal it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import socketio  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
SOCKET_PATH = "/_nicegui_ws/socket.io"
CUSTOMER = {"email": "demo@client.example", "password": "Demo-Portal-2026", "next": "/"}
WARM_UP_PAGES = 5  # opened before the baseline, so the first render's imports are not counted
OPEN_AT_ONCE = 10
SETTLE_SECONDS = 3.0
FIGURES_SHOWN = "outstanding-invoices"  # in the update that brings Home's figures, after the connection
FIGURES_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Figures:
    pages: int
    connected: int  # of them, still connected after the idle period
    rss_per_page_mb: float
    idle_cpu_percent: float  # of one core, over the idle period
    rss_total_mb: float


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system time of the process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    return ticks / os.sysconf("SC_CLK_TCK")


async def open_page(
    browser: httpx.AsyncClient,
    url: str,
    *,
    on_update: Callable[[], None] | None = None,
    needle: str = "",
    on_answered: Callable[[], None] | None = None,
) -> socketio.AsyncClient:
    """GET Home as a browser does, then connect its socket with NiceGUI's implicit handshake.

    ``on_update`` is called when the page's HTML or an update it receives over the socket holds
    ``needle`` (Home's figures come after the connection); ``on_answered`` when the page itself (its
    frame) has arrived, which a browser draws at once.
    """
    html = (await browser.get("/")).text
    if on_answered is not None:
        on_answered()
    found = re.search(r"'client_id': '([0-9a-f-]+)'", html)
    if found is None:
        raise RuntimeError("Home did not render a page (is the customer signed in?)")
    query = {
        "client_id": found.group(1),
        "tab_id": str(uuid.uuid4()),
        "document_id": str(uuid.uuid4()),
        "next_message_id": "0",
        "implicit_handshake": "true",
    }
    cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    client = socketio.AsyncClient(reconnection=False)
    if on_update is not None:
        if needle in html:
            on_update()

        @client.on("update")
        def update(data: object) -> None:
            if needle in json.dumps(data):
                on_update()

    await client.connect(
        f"{url}?{urlencode(query)}",
        socketio_path=SOCKET_PATH,
        transports=["websocket"],
        headers={"Cookie": cookies},
        wait_timeout=30,
    )
    return client


async def measure(url: str, pid: int, *, pages: int, idle: float) -> Figures:
    """Open ``pages`` connected Home pages on the portal at ``url`` (server process ``pid``) and measure."""
    sockets: list[socketio.AsyncClient] = []
    shown: list[asyncio.Event] = []

    async def open_home() -> socketio.AsyncClient:
        arrived = asyncio.Event()
        shown.append(arrived)
        return await open_page(browser, url, on_update=arrived.set, needle=FIGURES_SHOWN)

    async with httpx.AsyncClient(base_url=url, timeout=60) as browser:
        signed_in = await browser.post("/auth/login", data=CUSTOMER)
        if signed_in.status_code != 303:
            raise RuntimeError(f"sign-in answered {signed_in.status_code}")
        try:
            for _ in range(WARM_UP_PAGES):
                sockets.append(await open_home())
            await _all_set(shown)
            await asyncio.sleep(SETTLE_SECONDS)
            baseline = rss_bytes(pid)
            for start in range(0, pages, OPEN_AT_ONCE):
                batch = min(OPEN_AT_ONCE, pages - start)
                sockets += await asyncio.gather(*(open_home() for _ in range(batch)))
            # Home's figures follow each page over its connection: memory and idle CPU are measured once
            # every page has them, not while the last of them are still being drawn.
            await _all_set(shown)
            await asyncio.sleep(SETTLE_SECONDS)
            loaded = rss_bytes(pid)
            cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
            await asyncio.sleep(idle)
            cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
            connected = sum(1 for each in sockets[WARM_UP_PAGES:] if each.connected)
        finally:
            await asyncio.gather(*(each.disconnect() for each in sockets), return_exceptions=True)
    return Figures(
        pages=pages,
        connected=connected,
        rss_per_page_mb=(loaded - baseline) / pages / 2**20,
        idle_cpu_percent=cpu * 100,
        rss_total_mb=loaded / 2**20,
    )


async def _all_set(events: list[asyncio.Event]) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in events)), FIGURES_WAIT_SECONDS)
    except TimeoutError:
        missing = sum(1 for event in events if not event.is_set())
        raise RuntimeError(f"{missing} of {len(events)} Home pages never got their figures") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_portal(root: Path, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "PYTEST_", "NICEGUI_")) and key != "DATABASE_URL"
    }
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own app.py, our own flags
            [sys.executable, "app.py", "--demo", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=root,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the portal did not answer within 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="connected Home pages (default 300)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured (default 10)")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the portal checkout to run (default: this one)"
    )
    flags = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        log = Path(folder) / "portal.log"
        process = start_portal(flags.root.resolve(), Path(folder) / "data", port, log)
        try:
            figures = asyncio.run(
                measure(f"http://127.0.0.1:{port}", process.pid, pages=flags.pages, idle=flags.idle)
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"{figures.pages} connected Home pages on one portal ({flags.root.resolve()}):")
    print(
        f"  memory: {figures.rss_per_page_mb:.3f} MB per page ({figures.rss_total_mb:.0f} MB resident in all)"
    )
    print(f"  idle CPU: {figures.idle_cpu_percent:.1f}% of one core over {flags.idle:g} s")
    print(f"  still connected: {figures.connected} of {figures.pages}")
    print(json.dumps(figures.__dict__))


if __name__ == "__main__":
    main()
