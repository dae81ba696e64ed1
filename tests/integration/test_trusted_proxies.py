"""The real server (``python app.py`` under uvicorn): X-Forwarded-For from a client that is not a trusted
proxy changes neither the address the sign-in lock-out counts nor the one in the audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from services.demo import CUSTOMER_EMAIL
from tests.portal_process import running_portal

SPOOFED = "203.0.113.7"


def failed_sign_in_from(data_dir: Path, url: str) -> tuple[str, list[str]]:
    """Post a wrong password with a forged X-Forwarded-For; the audit event's address and the addresses
    the lock-out counts against."""
    response = httpx.post(
        f"{url}/auth/login",
        data={"email": CUSTOMER_EMAIL, "password": "Wrong-Battery-1"},
        headers={"X-Forwarded-For": SPOOFED},
    )
    assert response.status_code == 303
    with sqlite3.connect(data_dir / "portal.db") as database:
        (audited,) = database.execute(
            "SELECT ip_address FROM audit_events WHERE action = 'sign_in.failed'"
        ).fetchone()
        counted = [
            key for (key,) in database.execute("SELECT key FROM login_throttles WHERE scope = 'address'")
        ]
    return audited, counted


@pytest.mark.parametrize(
    ("trusted", "address"), [("", "127.0.0.1"), ("127.0.0.1", SPOOFED), ("10.0.0.0/8, ::1", "127.0.0.1")]
)
def test_forwarded_addresses_count_only_from_trusted_proxies(tmp_path, trusted, address):
    settings = {"PORTAL_BCRYPT_ROUNDS": "4"} | ({"PORTAL_TRUSTED_PROXIES": trusted} if trusted else {})
    data_dir = tmp_path / "data"
    with running_portal(data_dir, settings=settings) as portal:
        audited, counted = failed_sign_in_from(data_dir, portal.url)

    assert audited == address
    assert counted == [address]
