"""services.events: subscribers are called on their event loop after a notice from any thread, at most once
per COALESCE_SECONDS with the last notice never missed, until they cancel or drop their subscription;
a notice that anything may have changed (None, from a transport) calls every subscriber."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from services.events import COALESCE_SECONDS, Events
from services.notices import Deliver


class Recorder:
    """A subscriber's callback: when and on which thread it was called, and what it read then."""

    def __init__(self, read: object = None) -> None:
        self.calls: list[float] = []
        self.threads: list[int] = []
        self.read = read
        self.seen: list[object] = []

    def __call__(self) -> None:
        self.calls.append(time.monotonic())
        self.threads.append(threading.get_ident())
        if callable(self.read):
            self.seen.append(self.read())


class ReportingTransport:
    """A transport whose other instances are the test: it keeps what is sent and delivers on demand."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.deliver: Deliver | None = None
        self.closed = False

    def open(self, deliver: Deliver) -> None:
        self.deliver = deliver

    def send(self, topic: str) -> None:
        self.sent.append(topic)

    def close(self) -> None:
        self.closed = True


async def settle(seconds: float = COALESCE_SECONDS * 2) -> None:
    await asyncio.sleep(seconds)


async def test_a_notice_published_in_another_thread_calls_the_subscriber_on_the_loop() -> None:
    events = Events()
    heard = Recorder()
    subscription = events.subscribe("client:a:documents", heard)
    publisher = threading.Thread(target=events.publish, args=("client:a:documents",))
    publisher.start()
    publisher.join()
    await settle(0.05)
    assert len(heard.calls) == 1
    assert heard.threads == [threading.get_ident()]  # the loop's thread, not the publisher's
    assert events.version("client:a:documents") == 1
    assert subscription.topic == "client:a:documents"


async def test_other_topics_are_not_heard() -> None:
    events = Events()
    heard = Recorder()
    _kept = events.subscribe("client:a:documents", heard)
    events.publish("client:b:documents")
    await settle()
    assert heard.calls == []
    assert events.version("client:a:documents") == 0
    assert events.version("client:b:documents") == 1


async def test_a_burst_is_coalesced_and_its_last_notice_is_read() -> None:
    events = Events()
    state = {"value": 0}
    heard = Recorder(read=lambda: state["value"])
    _kept = events.subscribe("business:inbox", heard)

    def burst() -> None:
        for value in range(1, 51):
            state["value"] = value  # the change, committed before its notice
            events.publish("business:inbox")
            time.sleep(0.002)

    publisher = threading.Thread(target=burst)
    publisher.start()
    await asyncio.to_thread(publisher.join)
    await settle(COALESCE_SECONDS * 3)
    assert 2 <= len(heard.calls) <= 2 + int((heard.calls[-1] - heard.calls[0]) / COALESCE_SECONDS)
    gaps = [later - earlier for earlier, later in zip(heard.calls, heard.calls[1:], strict=False)]
    assert all(gap >= COALESCE_SECONDS * 0.9 for gap in gaps), gaps
    assert heard.seen[-1] == 50  # the last change is never missed
    assert events.version("business:inbox") == 50  # every notice counted, even those coalesced


async def test_a_cancelled_subscription_is_not_called_also_not_for_a_call_already_scheduled() -> None:
    events = Events()
    heard = Recorder()
    subscription = events.subscribe("business:inbox", heard)
    events.publish("business:inbox")
    await settle(0.05)
    events.publish("business:inbox")  # within the coalescing time: scheduled for its end
    await settle(0.05)
    subscription.cancel()
    events.publish("business:inbox")
    await settle()
    assert len(heard.calls) == 1
    assert subscription.cancelled


async def test_a_subscription_its_owner_dropped_is_not_called() -> None:
    events = Events()
    heard = Recorder()
    subscription = events.subscribe("business:inbox", heard)
    del subscription
    gc.collect()
    events.publish("business:inbox")
    await settle()
    assert heard.calls == []


async def test_none_from_the_transport_calls_every_subscriber_once() -> None:
    transport = ReportingTransport()
    events = Events(transport)
    first, second, third = Recorder(), Recorder(), Recorder()
    _kept = [
        events.subscribe("business:inbox", first),
        events.subscribe("client:a:documents", second),
        events.subscribe("client:a:documents", third),
    ]
    assert transport.deliver is not None
    deliver = transport.deliver
    listener = threading.Thread(target=lambda: (deliver(None), deliver(None)))
    listener.start()
    listener.join()
    await settle()
    assert [len(heard.calls) for heard in (first, second, third)] == [1, 1, 1]
    assert events.version("business:inbox") == 2  # a notice of every topic, heard at once
    assert events.version("never:published") == 2


async def test_publish_hands_the_topic_to_the_transport_and_delivers_it_here_too() -> None:
    transport = ReportingTransport()
    events = Events(transport)
    heard = Recorder()
    _kept = events.subscribe("business:settings", heard)
    events.publish("business:settings")
    await settle()
    assert transport.sent == ["business:settings"]
    assert len(heard.calls) == 1
    events.close()
    assert transport.closed
    events.publish("business:settings")  # after close: heard here only
    assert transport.sent == ["business:settings"]


async def test_another_instances_notice_calls_the_subscriber() -> None:
    transport = ReportingTransport()
    events = Events(transport)
    heard = Recorder()
    _kept = events.subscribe("client:a:documents", heard)
    assert transport.deliver is not None
    await asyncio.to_thread(transport.deliver, "client:a:documents")
    await settle()
    assert len(heard.calls) == 1
    assert transport.sent == []  # not passed on again


async def test_a_failing_subscriber_does_not_keep_the_notice_from_the_others() -> None:
    events = Events()
    heard = Recorder()

    def broken() -> None:
        raise RuntimeError("a subscriber's bug")

    _kept = [events.subscribe("business:inbox", broken), events.subscribe("business:inbox", heard)]
    events.publish("business:inbox")
    await settle()
    assert len(heard.calls) == 1


def test_notices_before_anyone_subscribed_are_counted() -> None:
    events = Events()
    events.publish("business:inbox")
    assert events.version("business:inbox") == 1
