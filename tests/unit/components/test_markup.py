"""Markup: text drawn once, escaped, found as a label is."""

from __future__ import annotations

from components import markup


def test_text_is_escaped_whatever_a_customer_typed() -> None:
    shown = markup.text('<script>alert("x")</script> & Co', "text-sm")
    assert shown == '<div class="text-sm">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</div>'


def test_a_row_and_a_column_carry_niceguis_own_classes() -> None:
    assert markup.row("gap-2", "a", "b") == '<div class="nicegui-row gap-2">ab</div>'
    assert markup.column("gap-0", "a") == '<div class="nicegui-column gap-0">a</div>'


def test_an_icon_is_what_quasar_draws_for_it() -> None:
    assert markup.icon("home", "text-xl").startswith('<i class="q-icon notranslate material-icons text-xl"')
    assert markup.icon("home").endswith(">home</i>")
