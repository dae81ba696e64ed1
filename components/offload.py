"""Blocking work (database, PDF, gateway) off the event loop, with a result that is never None."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from nicegui import run

T = TypeVar("T")


async def io_bound(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    result = await run.io_bound(func, *args, **kwargs)
    if result is None:  # NiceGUI returns None only when the app is shutting down
        raise RuntimeError("the portal is shutting down")
    return result
