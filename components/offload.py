"""Blocking work (database, PDF, gateway) off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from nicegui import run

T = TypeVar("T")


async def io_bound(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    boxed = await run.io_bound(_boxed, func, *args, **kwargs)
    if boxed is None:  # NiceGUI gives None instead of running the work when the app is shutting down
        raise asyncio.CancelledError("the portal is shutting down")  # the work is abandoned, not failed
    return boxed[0]


def _boxed(func: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T]:
    """The result in a tuple, so a service that returns None is told apart from a shutdown."""
    return (func(*args, **kwargs),)
