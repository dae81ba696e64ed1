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


def test_an_address_wraps_between_its_parts_and_other_words_stay_whole() -> None:
    assert markup.breakable("hello@northwind.example") == "hello@<wbr>northwind<wbr>.example"
    assert markup.breakable("https://northwind.example/a?b=c") == (
        "https://<wbr>northwind<wbr>.example/<wbr>a<wbr>?b<wbr>=c"
    )
    assert markup.breakable("St. Louis, Suite 2.10") == "St. Louis, Suite 2.10"
    assert markup.breakable("<b>@x.example</b>") == "&lt;b&gt;@<wbr>x<wbr>.example&lt;/<wbr>b&gt;"


def test_a_link_is_escaped_and_a_new_tab_gets_noopener_and_says_so() -> None:
    mail = markup.link("ann@x.example", "mailto:ann@x.example", "text-primary")
    assert mail == '<a href="mailto:ann@x.example" class="text-primary">ann@<wbr>x<wbr>.example</a>'
    site = markup.link(
        'x.example"', 'https://x.example/?a="1"&b', new_tab=True, new_tab_note="opens in a new tab"
    )
    assert site.startswith(
        '<a href="https://x.example/?a=&quot;1&quot;&amp;b" class="" target="_blank" rel="noopener">'
    )
    assert "x.example&quot;" in site
    assert '<span class="sr-only"> (opens in a new tab)</span></a>' in site
    assert 'aria-hidden="true"' in site  # the icon is for the eye only
