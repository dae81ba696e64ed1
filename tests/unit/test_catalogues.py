"""The catalogues in locales/ hold every message the code has, each translated (English is the source).

The messages are extracted from the code afresh, as ``pybabel extract -F babel.cfg`` does
(docs/translations.md), so a message added to the code without its translations fails here.
"""

from __future__ import annotations

import re
from functools import cache
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from services.i18n.catalogues import LOCALES_DIR, catalogue_path

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("de", "fr", "es")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")

MessageId = str | tuple[str, ...]


@cache
def extracted() -> dict[MessageId, str]:
    """Every message in the code, with one place it comes from."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages: dict[MessageId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message)
        messages.setdefault(key, f"{filename}:{lineno}")
    return messages


def catalogue(language: str) -> Catalog:
    path = catalogue_path(language)
    assert path.exists(), f"{path} is missing: pybabel init -i locales/messages.pot -d locales -l {language}"
    return read_po(BytesIO(path.read_bytes()), locale=language)


def test_the_code_has_messages_to_translate() -> None:
    assert len(extracted()) > 200  # the extraction itself works (a broken babel.cfg would find none)


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_every_message_is_in_the_catalogue(language: str) -> None:
    held = {message.id for message in catalogue(language) if message.id}
    missing = [f"{where}: {key!r}" for key, where in extracted().items() if key not in held]
    assert not missing, f"{len(missing)} messages missing from {language} (pybabel update):\n" + "\n".join(
        missing[:40]
    )


@pytest.mark.parametrize("language", list(TRANSLATED))
def test_every_message_is_translated_and_checked(language: str) -> None:
    wanted = set(extracted())
    problems = []
    for message in catalogue(language):
        if not message.id or message.id not in wanted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy (not checked yet): {message.id!r}")
        else:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            expected = set(PLACEHOLDER.findall(str(ids[-1])))
            for string in strings:
                if set(PLACEHOLDER.findall(str(string))) != expected:
                    problems.append(f"placeholders differ: {message.id!r} -> {string!r}")
    assert not problems, f"{len(problems)} problems in {language}:\n" + "\n".join(problems[:40])


def test_the_portal_offers_each_catalogue() -> None:
    from services.i18n import available_languages

    assert set(available_languages()) == {path.name for path in LOCALES_DIR.iterdir() if path.is_dir()}
