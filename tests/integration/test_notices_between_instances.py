"""Change notices travel between instances: two ``Events``, each with a transport of its own as two
``python app.py`` have, over one PostgreSQL database (LISTEN/NOTIFY) or one Redis server (pub/sub).
A subscriber in one hears what the other publishes within a second, exactly once, and never its own
twice; a listener whose connection is killed reconnects, calls every subscriber once (notices may have
been missed) and hears later notices again; a sender whose connection is killed sends once it is back.
A gateway saved in Settings through one portal is followed by the other."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import delete

from models import IntegrationSettings
from services.database import Database, make_engine
from services.events import COALESCE_SECONDS, SETTINGS_TOPIC, Events
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.gateways.switch import SwitchableGateway
from services.notices import choose
from services.notices.in_process import InProcess
from services.notices.postgres import PostgresNotices, conninfo
from services.notices.redis_pubsub import RedisNotices
from services.notices.relay import Relay
from services.payment_settings import GatewayChange, save_gateway
from services.portal import Portal, follow_settings, switch_gateway
from services.settings import Settings, SettingsError, load_settings
from tests.conftest import POSTGRES_URL, fresh_database, postgres_test_url
from tests.factories import make_organization

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="PORTAL_TEST_REDIS_URL is not set: no Redis server to test on"
)
HEARD_WITHIN = 1.0  # seconds
TOPIC = "client:c1:documents"
OTHER_TOPIC = "client:c2:documents"


class Instance:
    """One process's notices: its ``Events`` over ``transport``, with a subscriber counting its calls."""

    def __init__(self, transport: Relay) -> None:
        self.transport = transport
        self.events = Events(transport)
        self.calls = 0
        self.subscriptions = [self.events.subscribe(topic, self._heard) for topic in (TOPIC, OTHER_TOPIC)]

    def _heard(self) -> None:
        self.calls += 1

    def listening(self) -> None:
        assert self.transport.listening.wait(5), f"{self.transport.name} did not start listening"


async def eventually(condition: Callable[[], bool], within: float, what: str) -> float:
    """Seconds until ``condition`` holds; fails naming ``what`` after ``within`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"{what} not within {within} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def kill_postgres(transport: Relay, role: str) -> None:
    assert isinstance(transport, PostgresNotices)
    with psycopg.connect(transport.conninfo, autocommit=True) as connection:
        killed = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            (transport.connection_name(role),),
        ).fetchone()
    assert killed == (1,), f"no {role} connection to kill"


def kill_redis(transport: Relay, role: str) -> None:
    assert isinstance(transport, RedisNotices)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        name = transport.connection_name(role)
        listed: Any = client.client_list()  # typed for its asyncio twin too, differently by version
        clients: list[dict[str, str]] = listed
        ids = [entry["id"] for entry in clients if entry["name"] == name]
        assert len(ids) == 1, f"no {role} connection to kill"
        client.client_kill_filter(_id=ids[0])
    finally:
        client.close()


class Pair:
    """Two instances' notices over one server, and a way to kill one of their connections there."""

    def __init__(self, first: Relay, second: Relay, kill: Callable[[Relay, str], None]) -> None:
        self.a, self.b = Instance(first), Instance(second)
        self._kill = kill

    def kill(self, instance: Instance, role: str) -> None:
        self._kill(instance.transport, role)


def postgres(channel: str) -> Pair:
    url = postgres_test_url("notices")
    return Pair(PostgresNotices(url, channel=channel), PostgresNotices(url, channel=channel), kill_postgres)


def redis_server(channel: str) -> Pair:
    first, second = RedisNotices(REDIS_URL, channel=channel), RedisNotices(REDIS_URL, channel=channel)
    return Pair(first, second, kill_redis)


@pytest.fixture(
    params=[
        pytest.param(postgres, marks=needs_postgres, id="postgresql"),
        pytest.param(redis_server, marks=needs_redis, id="redis"),
    ]
)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    channel = f"portal_notices_test_{secrets.token_hex(4)}"  # never another test's, run beside this one
    made: Pair = request.param(channel)
    for instance in (made.a, made.b):
        instance.listening()
    yield made
    for instance in (made.a, made.b):
        instance.events.close()


async def test_a_notice_is_heard_by_the_other_instance_once_and_by_its_own_once(
    pair: Pair,
) -> None:
    a, b = pair.a, pair.b
    a.events.publish(TOPIC)
    await eventually(lambda: b.calls == 1, HEARD_WITHIN, "the other instance hearing the notice")
    await asyncio.sleep(COALESCE_SECONDS * 3)  # a second call would come by now
    assert (a.calls, b.calls) == (1, 1)
    assert a.events.version(TOPIC) == 1  # its own notice counted once: not heard back from the server
    assert b.events.version(TOPIC) == 1
    assert b.events.version(OTHER_TOPIC) == 0

    b.events.publish(OTHER_TOPIC)  # and the other way round
    await eventually(lambda: a.events.version(OTHER_TOPIC) == 1, HEARD_WITHIN, "the notice coming back")
    await asyncio.sleep(COALESCE_SECONDS * 3)
    assert (a.events.version(OTHER_TOPIC), b.events.version(OTHER_TOPIC)) == (1, 1)


async def test_a_listener_whose_connection_is_killed_reconnects_and_calls_every_subscriber(
    pair: Pair,
) -> None:
    a, b = pair.a, pair.b
    pair.kill(b, "listen")
    # Once it listens again: anything may have changed meanwhile, so each topic counts a notice.
    await eventually(lambda: b.events.version(TOPIC) == 1, 5, "the listener's notice after reconnecting")
    assert b.events.version(OTHER_TOPIC) == 1
    await eventually(lambda: b.calls == 2, 1, "every subscriber called")  # one per topic's subscriber
    assert a.events.version(TOPIC) == 0  # the other instance's listener was not touched
    b.listening()

    a.events.publish(TOPIC)  # later notices arrive again
    await eventually(lambda: b.events.version(TOPIC) == 2, HEARD_WITHIN, "a notice after the reconnection")


async def test_a_notice_whose_sender_lost_its_connection_is_sent_once_it_is_back(
    pair: Pair,
) -> None:
    a, b = pair.a, pair.b
    a.events.publish(TOPIC)  # the sender connects
    await eventually(lambda: b.events.version(TOPIC) == 1, HEARD_WITHIN, "the first notice")
    pair.kill(a, "send")
    a.events.publish(OTHER_TOPIC)
    await eventually(lambda: b.events.version(OTHER_TOPIC) == 1, 2, "the notice sent again")
    await asyncio.sleep(COALESCE_SECONDS * 2)
    assert b.events.version(OTHER_TOPIC) == 1


@needs_postgres
async def test_a_topic_too_long_for_notify_is_refused_and_later_ones_still_go() -> None:
    made = postgres(f"portal_notices_test_{secrets.token_hex(4)}")
    first, second = made.a, made.b
    try:
        first.listening()
        second.listening()
        first.events.publish("x" * 8000)
        first.events.publish(TOPIC)
        await eventually(lambda: second.events.version(TOPIC) == 1, HEARD_WITHIN, "the notice after it")
        assert second.events.version("x" * 8000) == 0
    finally:
        first.events.close()
        second.events.close()


@needs_postgres
async def test_a_listener_started_while_the_database_is_unreachable_listens_once_it_is() -> None:
    heard: list[str | None] = []
    transport = PostgresNotices("postgresql://postgres@127.0.0.1:1/none")
    transport.open(heard.append)
    await asyncio.sleep(0.3)
    assert not transport.listening.is_set()
    transport.conninfo = conninfo(postgres_test_url("notices"))  # the server is back
    await eventually(transport.listening.is_set, 8, "listening")
    await eventually(lambda: heard == [None], 1, "the notice that anything may have changed")
    transport.close()


def test_choose_takes_redis_when_its_url_is_set_else_postgresql_on_postgresql_else_in_process(
    tmp_path: Path,
) -> None:
    postgres = "postgresql://portal@db.example/portal"
    redis_settings = Settings(data_dir=tmp_path, redis_url="redis://cache.example:6379/0")
    assert isinstance(choose(redis_settings, postgres), RedisNotices)
    assert isinstance(choose(redis_settings, f"sqlite:///{tmp_path}/portal.db"), RedisNotices)
    chosen = choose(Settings(data_dir=tmp_path), postgres)
    assert isinstance(chosen, PostgresNotices)
    assert chosen.conninfo == postgres  # libpq's form, also of SQLAlchemy's postgresql+psycopg:// URLs
    plus = choose(Settings(data_dir=tmp_path), "postgresql+psycopg://portal:secret@db.example:5433/portal")
    assert isinstance(plus, PostgresNotices)
    assert plus.conninfo == "postgresql://portal:secret@db.example:5433/portal"
    assert isinstance(choose(Settings(data_dir=tmp_path), f"sqlite:///{tmp_path}/portal.db"), InProcess)


def test_the_redis_url_must_be_a_redis_url(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, redis_url="rediss://cache.example:6380/0").redis_url
    with pytest.raises(SettingsError, match=r"PORTAL_REDIS_URL: .*redis:// or rediss://"):
        load_settings(data_dir=tmp_path, redis_url="http://cache.example")


STRIPE = GatewayChange("stripe", "sk_test_abcdefgh1234", "pk_test_abcdefgh5678", "whsec_abcdefgh9999")


@needs_postgres
async def test_a_gateway_saved_through_one_portal_is_followed_by_the_other(tmp_path: Path) -> None:
    channel = f"portal_notices_test_{secrets.token_hex(4)}"
    url = postgres_test_url()
    first_db = fresh_database("postgresql", tmp_path)
    second_db = Database(make_engine(url))  # the other instance's engine, on the same database
    organization_id = make_organization(first_db)
    settings = Settings(data_dir=tmp_path, database_url=url)  # the environment's gateway: the sandbox
    transports = [PostgresNotices(url, channel=channel) for _ in range(2)]
    portals = [
        Portal(
            settings=settings,
            db=db,
            events=Events(transport),
            gateway=SwitchableGateway(SandboxGateway(records=DatabaseRecords(db))),
        )
        for db, transport in zip((first_db, second_db), transports, strict=True)
    ]
    followers = [follow_settings(portal, asyncio.to_thread) for portal in portals]
    first, second = portals
    try:
        for transport in transports:
            assert transport.listening.wait(5)

        chosen = await asyncio.to_thread(
            save_gateway, first.db, organization_id, STRIPE, settings, events=first.events
        )
        switch_gateway(first, chosen)  # as Settings > Payments does
        assert first.gateway.name == "stripe"
        took = await eventually(lambda: second.gateway.name == "stripe", 2, "the other portal's gateway")
        assert took < 2

        # The saved choice removed (a restore, say): back to the environment's gateway everywhere.
        with first.db.transaction() as session:
            session.execute(delete(IntegrationSettings))
        first.events.publish(SETTINGS_TOPIC)
        await eventually(lambda: second.gateway.name == "sandbox", 2, "the environment's gateway again")
        await eventually(lambda: first.gateway.name == "sandbox", 2, "the environment's gateway here too")
    finally:
        for follower in followers:
            follower.stop()
        for portal in portals:
            portal.events.close()
        second_db.engine.dispose()
