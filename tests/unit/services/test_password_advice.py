"""zxcvbn's advice on a weak password reaches the reader in their language, whatever zxcvbn says."""

from __future__ import annotations

import ast
import inspect

import zxcvbn.feedback

from services.i18n import using_language
from services.password_advice import ADVICE
from services.password_change import check_password


def zxcvbn_sentences() -> set[str]:
    """Every sentence zxcvbn's feedback can write (its ``_("...")`` calls)."""
    tree = ast.parse(inspect.getsource(zxcvbn.feedback))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_" and node.args
        if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }


def test_every_sentence_zxcvbn_can_write_is_one_of_ours() -> None:
    sentences = zxcvbn_sentences()
    assert len(sentences) > 20  # the source was read
    assert sentences <= set(ADVICE)


def test_a_weak_password_is_explained_in_the_readers_language() -> None:
    with using_language("de"):
        problems = check_password("password1234", email="ann@client.example", name="Ann Smith").problems
    assert problems == (
        "Dieses Passwort ist leicht zu erraten.",
        "Das ist ein sehr häufiges Passwort.",
        "Fügen Sie ein oder zwei weitere Wörter hinzu. Ungewöhnliche Wörter sind besser.",
    )


def test_a_repeated_pattern_is_explained_in_french_too() -> None:
    with using_language("fr"):
        problems = check_password("abcabcabcabc", email="ann@client.example", name="Ann Smith").problems
    assert (
        "Les répétitions comme « abcabcabc » ne sont guère plus difficiles à deviner que « abc »." in problems
    )
    assert all('abc"' not in problem and "Repeats" not in problem for problem in problems)
