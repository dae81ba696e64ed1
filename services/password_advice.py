"""zxcvbn's advice on a weak password, in the reader's language.

zxcvbn writes its warning and suggestions in English, through the standard library's gettext with no
catalogue of ours. Each sentence it can write is mapped here, by its English wording (zxcvbn 4's
``feedback.py``), to a message of the portal's catalogues. Advice this map does not know (a newer
zxcvbn's) is left out rather than shown in English: "This password is easy to guess." says enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.i18n import N_, _

ADVICE = {
    "Add another word or two. Uncommon words are better.": N_(
        "Add another word or two. Uncommon words are better."
    ),
    "Capitalization doesn't help very much.": N_("Capital letters do not help much."),
    "Reversed words aren't much harder to guess.": N_("Words spelt backwards are hardly harder to guess."),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": N_(
        "Predictable substitutions, such as “@” for “a”, do not help much."
    ),
    "Use a few words, avoid common phrases.": N_("Use a few words, but not a common phrase."),
    "No need for symbols, digits, or uppercase letters.": N_(
        "No need for symbols, digits or capital letters."
    ),
    "Straight rows of keys are easy to guess.": N_("Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": N_("Short keyboard patterns are easy to guess."),
    "Use a longer keyboard pattern with more turns.": N_("Use a longer keyboard pattern with more turns."),
    'Repeats like "aaa" are easy to guess.': N_("Repeats such as “aaa” are easy to guess."),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': N_(
        "Repeats such as “abcabcabc” are hardly harder to guess than “abc”."
    ),
    "Avoid repeated words and characters.": N_("Avoid repeated words and characters."),
    'Sequences like "abc" or "6543" are easy to guess.': N_(
        "Sequences such as “abc” or “6543” are easy to guess."
    ),
    "Avoid sequences.": N_("Avoid sequences."),
    "Recent years are easy to guess.": N_("Recent years are easy to guess."),
    "Avoid recent years.": N_("Avoid recent years."),
    "Avoid years that are associated with you.": N_("Avoid years that have to do with you."),
    "Dates are often easy to guess.": N_("Dates are often easy to guess."),
    "Avoid dates and years that are associated with you.": N_(
        "Avoid dates and years that have to do with you."
    ),
    "This is a top-10 common password.": N_("This is one of the 10 most common passwords."),
    "This is a top-100 common password.": N_("This is one of the 100 most common passwords."),
    "This is a very common password.": N_("This is a very common password."),
    "This is similar to a commonly used password.": N_("This is close to a commonly used password."),
    "A word by itself is easy to guess.": N_("A single word is easy to guess."),
    "Names and surnames by themselves are easy to guess.": N_(
        "A first name or surname by itself is easy to guess."
    ),
    "Common names and surnames are easy to guess.": N_("Common first names and surnames are easy to guess."),
    "All-uppercase is almost as easy to guess as all-lowercase.": N_(
        "All capitals are almost as easy to guess as all small letters."
    ),
}


def advice(feedback: Mapping[str, Any]) -> list[str]:
    """zxcvbn's ``feedback`` (its warning, then its suggestions) as sentences in the reader's language."""
    sentences = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    return [_(ADVICE[sentence]) for sentence in sentences if sentence in ADVICE]
