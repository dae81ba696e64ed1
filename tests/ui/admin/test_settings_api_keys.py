"""Settings > API keys: a key is shown once when created, works for the REST API, and stops working the
moment it is revoked."""

from __future__ import annotations

from nicegui.testing import User

from services import portal
from services.api_keys import list_api_keys
from tests.ui.admin.conftest import set_value, until

PAGE = "/admin/settings/api-keys"


def organization_id() -> int:
    from sqlalchemy import select

    from models import Organization

    with portal.current().db.reading() as session:
        found = session.scalars(select(Organization.id).order_by(Organization.id)).first()
        assert found is not None
        return found


async def create_key(owner: User, name: str = "Books sync", scope: str = "") -> str:
    await owner.open(PAGE)
    set_value(owner, "api-key-name", name)
    if scope:
        set_value(owner, "api-key-scope", scope)
    owner.find(marker="api-key-create").click()
    await owner.should_see("Copy the key now and keep it safe: it will not be shown again.", retries=40)
    secret = owner.find(marker="api-key-secret").elements.pop().value  # type: ignore[attr-defined]
    assert isinstance(secret, str)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_a_new_key_is_shown_once_and_opens_the_api(owner: User) -> None:
    secret = await create_key(owner)

    assert secret.startswith("ipk_")
    await owner.should_see("API key “Books sync” created")
    assert (await owner.http_client.get("/api/v1/clients", headers=bearer(secret))).status_code == 200
    (key,) = list_api_keys(portal.current().db, organization_id())
    assert (key.name, key.prefix, key.revoked_at) == ("Books sync", secret[:8], None)
    assert key.last_used_at is not None

    await owner.open(PAGE)  # later: the list shows the prefix, never the whole key
    await owner.should_see("Books sync")
    await owner.should_see(f"{secret[:8]}…")
    await owner.should_see("Active")
    assert secret not in (await owner.http_client.get(PAGE)).text
    await owner.should_not_see(marker="api-key-secret")


async def test_the_list_says_when_a_key_was_last_used(owner: User) -> None:
    secret = await create_key(owner)
    await owner.open(PAGE)
    await owner.should_see("never used")

    await owner.http_client.get("/api/v1/clients", headers=bearer(secret))
    await owner.open(PAGE)

    await owner.should_see("last used")


async def test_a_key_needs_a_name(owner: User) -> None:
    await owner.open(PAGE)
    set_value(owner, "api-key-name", "   ")

    owner.find(marker="api-key-create").click()

    await owner.should_see("No API keys yet.")
    name = owner.find(marker="api-key-name").elements.pop()
    await until(lambda: bool(name.props.get("error")))
    assert name.props["error-message"] == "Give the key a name, such as the software that will use it."
    assert list_api_keys(portal.current().db, organization_id()) == []


async def test_a_revoked_key_is_refused_by_the_api_at_once(owner: User) -> None:
    secret = await create_key(owner)
    assert (await owner.http_client.get("/api/v1/clients", headers=bearer(secret))).status_code == 200
    await owner.open(PAGE)
    prefix = secret[:8]

    owner.find(marker=f"api-key-revoke-{prefix}").click()
    await owner.should_see("Revoke “Books sync”?")
    owner.find(marker="api-key-revoke-confirm").click()

    await owner.should_see("The key “Books sync” is revoked.", retries=40)
    await owner.should_see("Revoked")
    await owner.should_not_see(marker=f"api-key-revoke-{prefix}")
    refused = await owner.http_client.get("/api/v1/clients", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_cancelling_the_confirmation_keeps_the_key_working(owner: User) -> None:
    secret = await create_key(owner)
    await owner.open(PAGE)

    owner.find(marker=f"api-key-revoke-{secret[:8]}").click()
    await owner.should_see("Revoke “Books sync”?")
    owner.find(marker="api-key-revoke-cancel").click()

    assert (await owner.http_client.get("/api/v1/clients", headers=bearer(secret))).status_code == 200
    (key,) = list_api_keys(portal.current().db, organization_id())
    assert key.revoked_at is None


async def test_a_read_only_key_made_in_settings_reads_but_cannot_write(owner: User) -> None:
    from sqlalchemy import select

    from models import AuditEvent, StaffUser
    from services.demo import OWNER_EMAIL

    secret = await create_key(owner, "Reports", scope="read")
    await owner.open(PAGE)
    await owner.should_see("Read only")

    assert (await owner.http_client.get("/api/v1/clients", headers=bearer(secret))).status_code == 200
    refused = await owner.http_client.post(
        "/api/v1/clients", json={"display_name": "New", "currency": "EUR"}, headers=bearer(secret)
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    with portal.current().db.reading() as session:
        owner_id = session.scalar(select(StaffUser.id).where(StaffUser.email == OWNER_EMAIL))
        made = session.scalars(select(AuditEvent).where(AuditEvent.action == "api_key.created")).one()
    assert made.staff_user_id == owner_id
    assert made.details["scope"] == "read"
