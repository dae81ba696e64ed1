"""The browser's own defences, on every response: no framing by other sites, no type sniffing, no
referrer to other sites, HTTPS only once the portal is served over it, and a Content-Security-Policy.

``SecurityHeaders`` wraps the whole app (``app.py``), so pages, assets, the REST API, PDFs, redirects and
the 503 page all carry the same headers. The policy is the tightest NiceGUI 3 runs under:

- scripts: our own files, plus the inline ones of the page as it was sent, each allowed by its SHA-256
  (NiceGUI writes the page's elements, its import map and start-up code inline). Any other inline
  script, an ``onerror=`` attribute or a ``javascript:`` link is refused. ``'unsafe-eval'`` stays: Vue
  compiles NiceGUI's component templates in the browser, and NiceGUI runs ``run_javascript`` and
  ``:prop`` bindings through ``eval``;
- styles: our own files and inline ones (Quasar, Tailwind and Vue set styles at run time);
- images and fonts: ours and ``data:`` (the QR code of two-factor set-up); connections: our own socket;
- frames: our own (Print loads the PDF in a hidden frame); no other site may frame us
  (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), except that a PDF may be framed by our own
  pages, for Print;
- forms post to us alone; no ``<base>``, no plug-ins.

While the Stripe gateway is on (``PORTAL_STRIPE_*`` or Settings > Payments, read on every response, so
a switch applies at once) Stripe.js's origin may run scripts and frames, and Stripe's API and 3-D
Secure origins are allowed as Stripe documents.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"  # a year, as browsers' preload lists ask
STRIPE_JS = "https://js.stripe.com"
# Stripe's documented origins for Stripe.js, its card element and 3-D Secure
STRIPE_SCRIPTS = (STRIPE_JS, "https://*.js.stripe.com")
STRIPE_FRAMES = (STRIPE_JS, "https://*.js.stripe.com", "https://hooks.stripe.com")
STRIPE_CONNECT = ("https://api.stripe.com",)
STRIPE_IMAGES = ("https://*.stripe.com",)

_OURS = frozenset(
    {
        b"x-frame-options",
        b"content-security-policy",
        b"x-content-type-options",
        b"referrer-policy",
        b"strict-transport-security",
    }
)  # set here alone: a route's own value of one of them is replaced
# An inline script: <script> without src=, up to the first </script (as the browser's parser reads it).
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script", re.IGNORECASE | re.DOTALL)


def stripe_js_origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class SecurityHeaders:
    """Adds the headers to every HTTP response; ``stripe_js_url()`` is Stripe.js's URL while Stripe is on."""

    def __init__(
        self, app: ASGIApp, *, https: bool, stripe_js_url: Callable[[], str | None] = lambda: None
    ) -> None:
        self.app = app
        self.https = https
        self.stripe_js_url = stripe_js_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        held: list[bytes] = []

        async def with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _content_type(message).startswith(b"text/html"):
                    start = message  # its policy names the page's inline scripts: wait for the page
                    return
                await send(self._headed(message, b""))
            elif start is not None:
                held.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(held)
                await send(self._headed(start, body))
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, with_headers)

    def _headed(self, start: Message, page: bytes) -> Message:
        pdf = _content_type(start).startswith(b"application/pdf")
        headers = [(name, value) for name, value in start.get("headers", []) if name not in _OURS]
        headers += [
            # A PDF is framed by our own pages for Print; nothing else is framed by anyone.
            (b"x-frame-options", b"SAMEORIGIN" if pdf else b"DENY"),
            (b"content-security-policy", self._policy(page, pdf).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if self.https:
            headers.append((b"strict-transport-security", HSTS.encode()))
        return {**start, "headers": headers}

    def _policy(self, page: bytes, pdf: bool) -> str:
        if pdf:  # Chromium shows a PDF in a viewer of its own, which a page's policy would block
            return "frame-ancestors 'self'"
        scripts = ["'self'", "'unsafe-eval'", *_inline_hashes(page)]
        frames, connect, images = ["'self'"], ["'self'"], ["'self'", "data:", "blob:"]
        stripe = self.stripe_js_url()
        if stripe is not None:
            origin = stripe_js_origin_of(stripe)
            own = (origin,) if origin and origin != STRIPE_JS else ()
            scripts += [*STRIPE_SCRIPTS, *own]
            frames += [*STRIPE_FRAMES, *own]
            connect += [*STRIPE_CONNECT, *own]
            images += [*STRIPE_IMAGES, *own]
        directives = {
            "default-src": ["'self'"],
            "script-src": scripts,
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": images,
            "font-src": ["'self'", "data:"],
            "connect-src": connect,
            "frame-src": frames,
            "frame-ancestors": ["'none'"],
            "form-action": ["'self'"],
            "base-uri": ["'none'"],
            "object-src": ["'none'"],
        }
        return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _inline_hashes(page: bytes) -> list[str]:
    hashes = []
    for match in _INLINE_SCRIPT.finditer(page):
        digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(hashes))


def _content_type(start: Message) -> bytes:
    for name, value in start.get("headers", []):
        if name == b"content-type":
            return bytes(value).lower()
    return b""
