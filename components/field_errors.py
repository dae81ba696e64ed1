"""Forms that save through a service: each field shows its own message, the form a banner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from nicegui import ui

from components.banner import banner
from services.errors import DomainError, InvalidDetails, human_message

T = TypeVar("T")


def show_field_errors(fields: Mapping[str, Any], errors: Mapping[str, str]) -> None:
    """Each field shows its message beside it (Quasar's error slot), or none; keys as the service's."""
    for key, field in fields.items():
        message = errors.get(key, "")
        field.props["error"] = bool(message)
        field.props["error-message"] = message
        field.update()


async def save_form(
    save: Callable[[], Awaitable[T]],
    *,
    button: ui.button,
    notice: ui.element,
    fields: Mapping[str, Any],
    saved: str,
) -> T | None:
    """Run ``save`` with the button spinning; on a refusal mark the fields and say why, and return
    None (nothing was changed); on success clear the marks, say ``saved`` and return the result."""
    button.props("loading")
    notice.clear()
    try:
        result = await save()
    except InvalidDetails as error:
        show_field_errors(fields, error.errors)
        with notice:
            banner("negative", human_message(error))
        return None
    except DomainError as error:
        with notice:
            banner("negative", human_message(error))
        return None
    finally:
        button.props(remove="loading")
    show_field_errors(fields, {})
    with notice:
        banner("positive", saved)
    return result
