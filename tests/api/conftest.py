"""The API sub-application on a test host, with a business, its API key and another business's data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.v1 import mount
from services import portal
from services.api_keys import create_api_key
from services.database import Database
from services.portal import Portal
from services.settings import Settings
from tests.factories import Clock, make_client, make_organization


@dataclass
class Api:
    client: TestClient  # with the business's key
    anonymous: TestClient  # without a key
    db: Database
    organization_id: int
    client_public_id: str  # a client of the business
    other_client_public_id: str  # a client of another business
    key: str
    clock: Clock
    app: FastAPI  # a bare host with the API mounted as app.py mounts it

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


def public_id_of(db: Database, client_id: int) -> str:
    from models import Client

    with db.reading() as session:
        return session.get_one(Client, client_id).public_id


@pytest.fixture
def api(db: Database, tmp_path) -> Api:
    clock = Clock()
    settings = Settings(data_dir=tmp_path, base_url="https://billing.example.com")
    portal.install(Portal(settings=settings, db=db, clock=clock))
    host = FastAPI()
    mount(host)
    organization_id = make_organization(db)
    other = make_organization(db, "Other Business")
    client_id = make_client(db, organization_id)
    other_client_id = make_client(db, other, name="Their Client")
    key = create_api_key(db, organization_id, "Books", staff_user_id=None, clock=clock).secret
    authed = TestClient(host, headers={"Authorization": f"Bearer {key}"})
    return Api(
        authed,
        TestClient(host),
        db,
        organization_id,
        public_id_of(db, client_id),
        public_id_of(db, other_client_id),
        key,
        clock,
        host,
    )
