"""A private localstripe (a fake Stripe API and Stripe.js) for tests: ``start_localstripe()``.

localstripe's own command listens on every interface and keeps its state in ``/tmp/localstripe.pickle``,
shared with every other run on the machine. So this module runs it itself, in a child process: on a
loopback socket bound here (no port race) and with its state in memory only, so each server starts empty.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 20.0


@dataclass
class LocalStripe:
    """A running localstripe; pass ``api_base`` to ``StripeGateway`` and ``js_url`` to the page."""

    api_base: str  # http://127.0.0.1:<port>
    process: subprocess.Popen[bytes]
    log_path: Path  # its access log and any traceback

    @property
    def js_url(self) -> str:
        # The fake Stripe.js finds its API by stripping exactly this suffix from its own URL.
        return f"{self.api_base}/js.stripe.com/v3/"

    def configure_webhook(self, url: str, secret: str, webhook_id: str = "default") -> None:
        """Have localstripe POST its events, signed with ``secret``, to ``url``."""
        self._post(f"/_config/webhooks/{webhook_id}", {"url": url, "secret": secret})

    def reset(self) -> None:
        """Forget every customer, payment and method (webhook settings stay)."""
        request = urllib.request.Request(f"{self.api_base}/_config/data", method="DELETE")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own loopback server
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _post(self, path: str, fields: dict[str, str]) -> None:
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(f"{self.api_base}{path}", data=body, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own loopback server
            pass


def start_localstripe(log_dir: Path | None = None) -> LocalStripe:
    """Start a fresh localstripe on a free loopback port and wait until it answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # connections queue from now on, so the readiness probe cannot be refused
    port = listener.getsockname()[1]
    log_path = Path(log_dir or tempfile.mkdtemp(prefix="localstripe-")) / "localstripe.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, str(listener.fileno())],
            pass_fds=[listener.fileno()],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
        )
    listener.close()  # the child holds its own copy
    server = LocalStripe(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_serving(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_serving(server: LocalStripe) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.js_url, timeout=2):  # noqa: S310 - our own loopback server
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"localstripe did not answer in {STARTUP_TIMEOUT} s:\n{server.log()}"
                ) from None
            time.sleep(0.05)


def _serve(fd: int) -> None:
    """The child process: localstripe's app on the inherited socket, its state never written to disk."""
    import logging

    from aiohttp import web
    from localstripe import resources, server  # type: ignore[import-untyped]

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # requests, webhook deliveries
    resources.Store.dump_to_disk = lambda self: None

    @web.middleware
    async def scoped_script(request: web.Request, handler: Any) -> web.StreamResponse:
        # The fake Stripe.js declares a global ``class Element``, which hides the browser's own DOM
        # ``Element`` from every other script and stops the portal's page (Vue) from mounting. Real
        # Stripe.js declares nothing of the kind; wrapping the fake in a function keeps its names local
        # (``Stripe`` is still assigned globally).
        response = await handler(request)
        if request.path == "/js.stripe.com/v3/" and isinstance(response, web.Response) and response.text:
            wrapped = "(function () {\n" + response.text + "\n})();\n"
            return web.Response(text=wrapped, content_type="application/javascript")
        return response

    server.app.middlewares.append(scoped_script)
    web.run_app(server.app, sock=socket.socket(fileno=fd), print=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
