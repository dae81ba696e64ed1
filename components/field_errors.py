"""Forms that save through a service: each field shows its own message, the form a banner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from nicegui import ui

from components.banner import banner
from services.errors import DomainError, InvalidDetails, human_message

T = TypeVar("T")

ERROR_NOTE = "field-error-note"  # the marker of a field's hidden copy of its message


def show_field_errors(fields: Mapping[str, Any], errors: Mapping[str, str]) -> None:
    """Each field shows its message beside it (Quasar's error slot), or none; keys as the service's."""
    for key, field in fields.items():
        show_field_error(field, errors.get(key, ""))


def show_field_error(field: Any, message: str) -> None:
    """The field shows ``message`` beneath it, or none, and a screen reader hears it with the field.

    Quasar draws the message (``error-message``) but ties it to nothing and gives it no id. A hidden
    copy inside the field has one: the field's own input names it as its description
    (``aria-describedby``; a description may be hidden) and is marked invalid. One copy per field,
    its text changed each time.
    """
    field.props["error"] = bool(message)
    field.props["error-message"] = message
    notes = [child for child in field.default_slot.children if ERROR_NOTE in child._markers]
    if notes:
        note = notes[0]
    else:
        with field:
            note = ui.label().classes("hidden").mark(ERROR_NOTE)
    note.text = message
    if message:
        field.props(f"aria-invalid=true aria-describedby={note.html_id}")
    else:
        field.props(remove="aria-invalid aria-describedby")
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
