"""The invoice PDF: everything the customer must read is in it, in its text layer, on A4 pages."""

from __future__ import annotations

import logging
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from services.dates import format_day
from services.invoice_detail import AppliedAmount, DocumentLine, InvoiceDocument, Party
from services.money import Money, format_money
from services.pdf import render_invoice_pdf
from services.pdf.fonts import printable
from services.pdf.invoice import InvoiceLayout
from services.totals import LineInput, document_totals, line_totals

CURRENCY = "USD"


# --- factories ---------------------------------------------------------------------------------------


def make_line(
    description: str,
    quantity: str = "1",
    rate_minor: int = 10_000,
    *,
    discount_percent: str = "0",
    tax_percent: str = "0",
    tax_name: str = "",
    currency: str = CURRENCY,
) -> DocumentLine:
    entered = LineInput(
        description, Decimal(quantity), rate_minor, Decimal(discount_percent), Decimal(tax_percent), tax_name
    )
    computed = line_totals(entered)
    return DocumentLine(
        description=description,
        quantity=Decimal(quantity),
        rate=Money(rate_minor, currency),
        discount_percent=Decimal(discount_percent),
        tax_name=tax_name,
        tax_rate_percent=Decimal(tax_percent),
        amount=Money(computed.amount_minor, currency),
        discount=Money(computed.discount_minor, currency),
        tax=Money(computed.tax_minor, currency),
    )


def make_document(
    lines: tuple[DocumentLine, ...] | None = None,
    *,
    applied: tuple[AppliedAmount, ...] = (),
    currency: str = CURRENCY,
    **overrides: Any,
) -> InvoiceDocument:
    if lines is None:
        lines = (
            make_line("Logo design", "1", 45_000, tax_percent="20", tax_name="VAT"),
            make_line("Hosting (monthly)", "12", 2_500, tax_percent="20", tax_name="VAT"),
            make_line("Consulting", "7.5", 14_000, tax_percent="20", tax_name="VAT"),
        )
    totals = document_totals(
        [
            LineInput(
                line.description,
                line.quantity,
                line.rate.minor,
                line.discount_percent,
                line.tax_rate_percent,
                line.tax_name,
            )
            for line in lines
        ],
        currency,
    )
    paid = sum((item.amount for item in applied), Money.zero(currency))
    values: dict[str, Any] = {
        "public_id": "inv_7Hq2",
        "number": "INV-00042",
        "is_retainer": False,
        "status": "sent",
        "status_label": "Sent",
        "issue_date": date(2026, 6, 15),
        "due_date": date(2026, 7, 15),
        "business": Party(
            name="Acme Studio",
            company="",
            email="hello@acme.example",
            phone="+1 555 0100",
            website="https://acme.example",
            address_lines=("1 Main Street", "Springfield 12345", "United States"),
        ),
        "client": Party(
            name="Jane Client",
            company="Client Ltd",
            email="billing@client.example",
            phone="",
            website="",
            address_lines=("22 Side Road", "Shelbyville"),
        ),
        "lines": lines,
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "tax": totals.tax,
        "total": totals.total,
        "applied": applied,
        "balance_due": totals.total - paid,
        "notes": "Thank you for your business.",
        "terms": "Payment is due within 30 days.",
        "locale": "en_US",
        "logo": None,
        "viewed_at": None,
    }
    values.update(overrides)
    return InvoiceDocument(**values)


def tiny_png(width: int = 6, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x25\x63\xeb" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text with every run of white space as one space: lines wrap wherever the layout needs."""
    return " ".join(text.split())


def without_page_furniture(text: str) -> str:
    """A page's text less the repeated column headings and the page footer."""
    headings = re.compile(r"#\s*Description\s*Qty\s*Rate\s*Tax\s*Amount")
    footer = re.compile(r"Page \d+ of \d+$")
    return "\n".join(
        row for row in text.splitlines() if not headings.fullmatch(row) and not footer.search(row)
    )


def money(minor: int, currency: str = CURRENCY, locale: str = "en_US") -> str:
    return format_money(Money(minor, currency), locale)


# --- the document --------------------------------------------------------------------------------------


def test_output_is_a_pdf_file() -> None:
    pdf = render_invoice_pdf(make_document())

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_pages_are_a4() -> None:
    page = PdfReader(BytesIO(render_invoice_pdf(make_document()))).pages[0]

    width_mm = float(page.mediabox.width) / 72 * 25.4
    height_mm = float(page.mediabox.height) / 72 * 25.4
    assert (round(width_mm), round(height_mm)) == (210, 297)


def test_pdf_has_number_dates_status_parties_lines_and_totals() -> None:
    document = make_document()

    text = flat("\n".join(pages_text(render_invoice_pdf(document))))

    assert "Invoice" in text
    assert "INV-00042" in text
    assert format_day(document.issue_date) in text
    assert format_day(document.due_date) in text
    assert "Sent" in text
    for business_detail in (
        "Acme Studio",
        "1 Main Street",
        "+1 555 0100",
        "hello@acme.example",
        "acme.example",
    ):
        assert business_detail in text
    for client_detail in ("Jane Client", "Client Ltd", "22 Side Road", "billing@client.example"):
        assert client_detail in text
    for line in document.lines:
        assert line.description in text
        assert money(line.amount.minor) in text
        assert money(line.rate.minor) in text
        assert money(line.tax.minor) in text
    assert "7.5" in text  # a quantity with a fraction
    assert f"Sub Total {money(document.subtotal.minor)}" in text
    assert f"VAT (20%) {money(document.tax.minor)}" in text
    assert f"Total {money(document.total.minor)}" in text
    assert f"Balance Due {money(document.balance_due.minor)}" in text
    assert "Thank you for your business." in text
    assert "Payment is due within 30 days." in text


def test_a_retainer_invoice_is_titled_so() -> None:
    text = flat(pages_text(render_invoice_pdf(make_document(is_retainer=True)))[0])

    assert "Retainer Invoice" in text


def test_discount_row_only_when_the_invoice_has_a_discount() -> None:
    plain = make_document()
    discounted = make_document(
        (make_line("Annual plan", "1", 120_000, discount_percent="10", tax_percent="20", tax_name="VAT"),)
    )

    plain_text = flat(pages_text(render_invoice_pdf(plain))[0])
    discounted_text = flat(pages_text(render_invoice_pdf(discounted))[0])

    assert "Discount" not in plain_text
    assert f"Discount {money(-12_000)}" in discounted_text  # the totals row
    assert f"Discount 10%: {money(-12_000)}" in discounted_text  # under the line's description
    assert f"Total {money(129_600)}" in discounted_text  # (1,200 - 120) + 20 % tax


def test_payments_credits_and_retainers_applied_are_listed_with_date_and_amount() -> None:
    applied = (
        AppliedAmount(
            "payment", "Payment RCPT-00003 · Visa •••• 4242", date(2026, 6, 20), Money(30_000, "USD")
        ),
        AppliedAmount("credit", "Credit note CN-00001", date(2026, 6, 21), Money(5_000, "USD")),
        AppliedAmount("retainer", "Retainer payment RCPT-00001", date(2026, 6, 22), Money(2_500, "USD")),
    )
    document = make_document(applied=applied, status="partially_paid", status_label="Partially Paid")

    text = flat("\n".join(pages_text(render_invoice_pdf(document))))

    for item in applied:
        assert item.label in text
        assert format_day(item.applied_on) in text
        assert money(-item.amount.minor) in text
    assert "Partially Paid" in text
    assert f"Balance Due {money(document.balance_due.minor)}" in text


def test_a_long_list_of_payments_runs_over_pages_and_ends_with_the_balance_due() -> None:
    applied = tuple(
        AppliedAmount("payment", f"Payment RCPT-{n:05d}", date(2026, 6, 20), Money(100, "USD"))
        for n in range(90)
    )
    document = make_document(applied=applied)

    texts = pages_text(render_invoice_pdf(document))

    assert len(texts) > 2
    everything = flat("\n".join(texts))
    assert all(f"Payment RCPT-{n:05d}" in everything for n in range(90))
    totals_row = f"Balance Due {money(document.balance_due.minor)}"
    assert everything.index("RCPT-00089") < everything.rindex(totals_row)


def test_amounts_and_dates_follow_the_documents_locale() -> None:
    lines = (make_line("Beratung", "2", 123_450, currency="EUR"),)
    document = make_document(lines, currency="EUR", locale="de_DE")

    text = flat(pages_text(render_invoice_pdf(document))[0].replace("\xa0", " "))

    assert flat(format_money(Money(246_900, "EUR"), "de_DE").replace("\xa0", " ")) in text  # 2.469,00 €
    assert format_day(document.due_date, "de_DE") in text  # 15.07.2026


def test_long_descriptions_wrap_inside_their_column() -> None:
    description = " ".join(["Research, design and build of the customer portal"] * 6)
    document = make_document((make_line(description, "1", 500_000),))

    pdf = render_invoice_pdf(document)
    text = pages_text(pdf)[0]

    assert description in flat(text)
    assert len([row for row in text.splitlines() if "customer portal" in row]) > 3


@pytest.mark.parametrize(
    "name",
    ["Αθηνά Παπαδοπούλου", "Дмитрий Иванов", "Zoë Łukasiewicz-Nguyễn"],
    ids=["greek", "cyrillic", "latin-extended"],
)
def test_client_names_in_any_european_script_come_back_out_of_the_text_layer(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = Party(name, "", "client@example.com", "", "", ("Athens",))
    document = make_document(client=client, lines=(make_line(f"Consulting for {name}", "2", 9_900),))

    text = pages_text(render_invoice_pdf(document))[0]

    assert name in text
    assert f"Consulting for {name}" in text
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]  # no missing glyph


def test_every_page_footer_names_the_invoice_even_in_another_script() -> None:
    lines = tuple(make_line(f"Item {n}", "1", 1_000) for n in range(120))
    document = make_document(lines, number="СЧ-000042", status="void", status_label="Void")

    texts = pages_text(render_invoice_pdf(document))

    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert f"Invoice СЧ-000042 Page {number} of {len(texts)}" in flat(text)


def test_an_invoice_of_300_lines_runs_over_pages_with_headings_and_page_numbers_on_each() -> None:
    lines = tuple(make_line(f"Service item {n:03d}", "1", 1_000 + n, tax_percent="10") for n in range(1, 301))
    document = make_document(lines)

    texts = pages_text(render_invoice_pdf(document))

    count = len(texts)
    assert count >= 5
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {count}" in text
    everything = flat("\n".join(texts))
    for line in lines:
        assert line.description in everything
        assert money(line.amount.minor) in everything
    for text in texts:
        if re.search(r"Service item \d{3}", text):  # every page with rows starts with the column headings
            assert re.search(r"#\s*Description\s*Qty\s*Rate\s*Tax\s*Amount", text)
    assert f"Total {money(document.total.minor)}" in flat(texts[-1])
    assert f"Balance Due {money(document.balance_due.minor)}" in flat(texts[-1])


def test_rows_are_never_cut_in_half_between_pages() -> None:
    lines = tuple(make_line(f"Row {n:03d} " + "long words " * 12, "1", 1_000) for n in range(1, 80))

    texts = pages_text(render_invoice_pdf(make_document(lines)))

    for number in range(1, 80):
        pages_with_row = [text for text in texts if f"Row {number:03d}" in text]
        assert len(pages_with_row) == 1
        assert money(1_000) in pages_with_row[0]


def test_a_description_longer_than_a_page_starts_at_once_and_carries_on_overleaf() -> None:
    description = "Start. " + "A very long description that goes on and on. " * 260 + "End."
    lines = (make_line(description, "1", 1_000), make_line("The next line", "1", 500))

    texts = pages_text(render_invoice_pdf(make_document(lines)))

    assert len(texts) > 2
    assert "Start." in texts[0]
    assert money(1_000) in texts[0]
    body = flat("\n".join(without_page_furniture(text) for text in texts))
    assert description in body
    assert body.index("End.") < body.index("The next line")


# --- stamps --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "label", "stamp"),
    [
        ("paid", "Paid", "PAID"),
        ("void", "Void", "VOID"),
        ("sent", "Sent", None),
        ("viewed", "Overdue", None),
        ("partially_paid", "Partially Paid", None),
    ],
)
def test_paid_and_void_invoices_are_stamped_and_no_others(status: str, label: str, stamp: str | None) -> None:
    text = pages_text(render_invoice_pdf(make_document(status=status, status_label=label)))[0]

    words = set(re.findall(r"[A-Za-z]+", text))
    assert {"PAID", "VOID"} & words == ({stamp} if stamp else set())


def test_every_page_of_a_long_paid_invoice_carries_the_stamp() -> None:
    lines = tuple(make_line(f"Item {n}", "1", 1_000) for n in range(120))

    texts = pages_text(render_invoice_pdf(make_document(lines, status="paid", status_label="Paid")))

    assert len(texts) > 1
    assert all("PAID" in text for text in texts)


# --- logo ----------------------------------------------------------------------------------------------


def image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(BytesIO(pdf)).pages)


def test_the_business_logo_is_embedded_as_an_image() -> None:
    pdf = render_invoice_pdf(make_document(logo=tiny_png()))

    resources: Any = PdfReader(BytesIO(pdf)).pages[0]["/Resources"]
    xobjects = resources["/XObject"]
    assert [xobject.get_object()["/Subtype"] for xobject in xobjects.values()] == ["/Image"]
    assert image_count(pdf) == 1


def test_without_a_logo_there_is_no_image() -> None:
    assert image_count(render_invoice_pdf(make_document(logo=None))) == 0


def test_a_broken_logo_is_left_out_and_the_invoice_still_renders() -> None:
    pdf = render_invoice_pdf(make_document(logo=b"not an image at all"))

    assert image_count(pdf) == 0
    assert "INV-00042" in pages_text(pdf)[0]


# --- purity --------------------------------------------------------------------------------------------


def test_the_same_document_gives_the_same_bytes() -> None:
    document = make_document(logo=tiny_png())

    assert render_invoice_pdf(document) == render_invoice_pdf(document)


def test_rendering_from_several_threads_at_once_gives_the_same_bytes_as_one_by_one() -> None:
    documents = [
        make_document(client=Party(name, "", "", "", "", ()), status=status, status_label=status.title())
        for name in ("Jane Client", "Αθηνά Παπαδοπούλου", "Дмитрий Иванов", "Zoë Łukasiewicz")
        for status in ("sent", "paid")
    ]
    one_by_one = [render_invoice_pdf(document) for document in documents]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrently = list(pool.map(render_invoice_pdf, documents * 3))

    assert concurrently == one_by_one * 3


def test_a_document_does_not_leak_its_characters_into_the_next_one() -> None:
    cyrillic = make_document(client=Party("Дмитрий Иванов", "", "", "", "", ()))
    plain = make_document()

    render_invoice_pdf(cyrillic)
    after = render_invoice_pdf(plain)

    assert after == render_invoice_pdf(replace(plain))
    assert "Дмитрий" not in pages_text(after)[0]


# --- the font: standard Helvetica when Windows-1252 is enough, embedded DejaVu Sans otherwise ------------


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        names |= {str(font.get_object()["/BaseFont"]) for font in resources["/Font"].values()}
    return names


def embeds_a_font(pdf: bytes) -> bool:
    return b"/FontFile2" in pdf


def is_set_in_dejavu_sans(pdf: bytes) -> bool:
    """Both faces embedded as subsets: ``/MPDFAA+DejaVuSansBook`` and ``/MPDFAA+DejaVuSansBold``."""
    names = font_names(pdf)
    return len(names) == 2 and all(re.fullmatch(r"/[A-Z]{6}\+DejaVuSans\w*", name) for name in names)


def test_a_latin_only_invoice_is_set_in_helvetica_with_no_font_embedded() -> None:
    pdf = render_invoice_pdf(make_document(status="paid", status_label="Paid"))

    assert not embeds_a_font(pdf)
    assert font_names(pdf) == {"/Helvetica", "/Helvetica-Bold"}
    assert b"/WinAnsiEncoding" in pdf


def test_an_invoice_for_a_client_with_a_greek_name_embeds_dejavu_sans() -> None:
    document = make_document(client=Party("Αθηνά Παπαδοπούλου", "", "", "", "", ("Athens",)))

    pdf = render_invoice_pdf(document)

    assert embeds_a_font(pdf)
    assert is_set_in_dejavu_sans(pdf)
    assert "Αθηνά Παπαδοπούλου" in pages_text(pdf)[0]


def test_euro_amounts_and_german_umlauts_come_back_out_of_the_helvetica_text_layer() -> None:
    lines = (
        make_line("Beratung für Ölförderung – „Größe“", "2", 123_450, tax_percent="19", tax_name="MwSt.",
                  discount_percent="10", currency="EUR"),
    )  # fmt: skip
    client = Party(
        "Müller GmbH", "", "buchhaltung@mueller.example", "", "", ("Königstraße 5", "80331 München")
    )
    applied = (
        AppliedAmount(
            "payment", "Payment RCPT-00003 · Visa •••• 4242", date(2026, 6, 20), Money(5_000, "EUR")
        ),
    )
    document = make_document(lines, client=client, applied=applied, currency="EUR", locale="de_DE")

    pdf = render_invoice_pdf(document)
    text = pages_text(pdf)[0]

    assert not embeds_a_font(pdf)
    for expected in ("Müller GmbH", "Königstraße 5", "80331 München", "Beratung für Ölförderung – „Größe“"):
        assert expected in text
    assert "Payment RCPT-00003 · Visa •••• 4242" in text
    for minor in (123_450, 246_900, -24_690, document.tax.minor, document.total.minor, -5_000):
        assert format_money(Money(minor, "EUR"), "de_DE") in text  # 2.469,00 € with a no-break space
    assert f"Balance Due {format_money(document.balance_due, 'de_DE')}" in text
    assert "MwSt. (19%)" in text
    assert format_day(document.due_date, "de_DE") in text


def test_narrow_no_break_spaces_of_french_amounts_print_as_no_break_spaces_in_helvetica() -> None:
    lines = (make_line("Conseil", "2", 12_345_678, currency="EUR"),)
    document = make_document(lines, currency="EUR", locale="fr_FR")
    amount = format_money(Money(24_691_356, "EUR"), "fr_FR")
    assert "\u202f" in amount  # 246 913,56 €

    pdf = render_invoice_pdf(document)

    assert not embeds_a_font(pdf)
    assert amount.replace("\u202f", "\xa0") in pages_text(pdf)[0]


@pytest.mark.parametrize(
    "change",
    [
        {"client": Party("Дмитрий Иванов", "", "", "", "", ())},
        {"client": Party("Zoë Łukasiewicz", "", "", "", "", ())},  # Ł is not in Windows-1252
        {"client": Party("山田 Trading", "", "", "", "", ())},  # prints as ?? either way
        {"business": Party("Acme Studio", "", "", "", "", ("Αθήνα",))},
        {"number": "СЧ-000042"},
        {"status_label": "Σταλμένο"},
        {"lines": (make_line("Αναλυτική αναφορά"),)},
        {"lines": (make_line("Hosting", tax_percent="24", tax_name="ΦΠΑ"),)},
        {"applied": (AppliedAmount("payment", "Πληρωμή 1", date(2026, 6, 20), Money(100, "USD")),)},
        {"notes": "Ευχαριστούμε!"},
        {"terms": "Оплата в течение 30 дней."},
        {"locale": "fr_CH", "notes": "Merci\u2009!"},  # a thin space
        {"lines": (make_line("Hosting", currency="INR"),), "currency": "INR", "locale": "en_IN"},  # ₹
        {"locale": "el_GR"},  # the dates, in Greek
    ],
    ids=[
        "cyrillic-client",
        "latin-extended-client",
        "cjk-client",
        "business-address",
        "number",
        "status",
        "description",
        "tax-name",
        "payment-label",
        "notes",
        "terms",
        "thin-space",
        "rupee-sign",
        "greek-dates",
    ],
)
def test_one_character_outside_windows_1252_anywhere_in_the_document_embeds_dejavu_sans(
    change: dict[str, Any],
) -> None:
    document = make_document(**change)

    pdf = render_invoice_pdf(document)

    assert embeds_a_font(pdf)
    assert is_set_in_dejavu_sans(pdf)


def test_text_left_out_of_the_font_decision_falls_back_to_dejavu_sans_not_to_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    document = make_document(notes="Ευχαριστούμε!")
    expected = render_invoice_pdf(document)
    monkeypatch.setattr(InvoiceLayout, "_printed_texts", lambda self: iter(["Invoice"]))

    pdf = render_invoice_pdf(document)

    assert pdf == expected
    assert "Ευχαριστούμε!" in pages_text(pdf)[0]
    assert [record.levelno for record in caplog.records] == [logging.ERROR]


def test_helvetica_measures_its_own_widths_so_long_descriptions_still_wrap_inside_their_column() -> None:
    description = " ".join(["Recherche, conception et réalisation du portail client"] * 6)
    document = make_document((make_line(description, "1", 500_000),))

    pdf = render_invoice_pdf(document)
    text = pages_text(pdf)[0]

    assert not embeds_a_font(pdf)
    assert description in flat(text)
    assert len([row for row in text.splitlines() if "portail client" in row]) > 3


# --- characters the font cannot draw -------------------------------------------------------------------


def test_characters_outside_the_bundled_font_are_replaced_not_dropped_silently() -> None:
    assert printable("山田 Trading") == "?? Trading"
    assert printable("￥1,235") == "¥1,235"  # full-width yen, as the ja_JP locale writes it
    assert printable("\u200f-1,234.56") == "-1,234.56"  # right-to-left mark
    assert printable("Cafe\u0301") == "Café"  # decomposed accent, composed
    assert printable("Tab\tbed") == "Tab bed"


def test_an_invoice_in_yen_for_a_japanese_locale_renders() -> None:
    lines = (make_line("Consulting", "1", 123_456, currency="JPY"),)
    document = make_document(lines, currency="JPY", locale="ja_JP")

    text = pages_text(render_invoice_pdf(document))[0]

    assert "¥123,456" in text
