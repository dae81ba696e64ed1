"""The business profile and logo: every field checked, a logo checked by its content and shrunk."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from services.account_details import AddressInput
from services.branding import get_logo
from services.business_profile import (
    MAX_LOGO_BYTES,
    ProfileChange,
    get_profile,
    prepare_logo,
    remove_logo,
    set_logo,
    update_profile,
)
from services.database import Database
from services.errors import InvalidDetails
from tests.factories import fixed_clock, make_organization

ADDRESS = AddressInput("5 Rue de la Paix", "", "Paris", "", "75002", "FR")


def image(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = BytesIO()
    Image.new(mode, size, 128 if mode in ("L", "CMYK") else (20, 40, 60)).save(out, format=fmt)
    return out.getvalue()


def test_a_valid_profile_is_saved_tidied(db: Database) -> None:
    organization_id = make_organization(db)
    change = ProfileChange(
        "  Atelier   Lune ", ADDRESS, "Bonjour@Lune.example", "01 42 68 53 00", "lune.example"
    )
    saved = update_profile(db, organization_id, change, clock=fixed_clock)
    assert saved == get_profile(db, organization_id)
    assert (saved.name, saved.phone, saved.website) == (
        "Atelier Lune",
        "+33 1 42 68 53 00",
        "https://lune.example",
    )
    assert saved.address.country == "FR"


def test_each_wrong_field_has_a_message_and_nothing_is_written(db: Database) -> None:
    organization_id = make_organization(db)
    before = get_profile(db, organization_id)
    bad = ProfileChange("", AddressInput("", "", "", "", "", "ZZ"), "nope", "12", "javascript:alert(1)")
    with pytest.raises(InvalidDetails) as raised:
        update_profile(db, organization_id, bad)
    assert {"name", "email", "phone", "website", "address.line1", "address.city", "address.country"} <= set(
        raised.value.errors
    )
    assert get_profile(db, organization_id) == before


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_png_or_jpeg_is_shrunk_to_fit_keeping_its_shape(fmt: str, mime: str) -> None:
    logo = prepare_logo(image(fmt, (2000, 400)))
    assert (logo.media_type, logo.width, logo.height) == (mime, 600, 120)
    with Image.open(BytesIO(logo.content)) as stored:
        assert (stored.format, stored.size) == (fmt, (600, 120))


def test_a_small_logo_is_not_enlarged_and_a_cmyk_jpeg_becomes_rgb() -> None:
    assert prepare_logo(image("PNG", (120, 40))).width == 120
    with Image.open(BytesIO(prepare_logo(image("JPEG", (50, 50), "CMYK")).content)) as stored:
        assert stored.mode == "RGB"


@pytest.mark.parametrize(
    "content",
    [b"", b"not an image", image("GIF", (10, 10)), image("BMP", (10, 10)), image("PNG", (40, 40))[:60]],
    ids=["empty", "text", "gif", "bmp", "truncated-png"],
)
def test_anything_but_a_whole_png_or_jpeg_is_refused(content: bytes) -> None:
    with pytest.raises(InvalidDetails) as raised:
        prepare_logo(content)
    assert "not a PNG or JPEG" in raised.value.errors["logo"]


def test_a_file_over_1_mb_is_refused_before_it_is_read() -> None:
    with pytest.raises(InvalidDetails) as raised:
        prepare_logo(b"\x89PNG" + bytes(MAX_LOGO_BYTES))
    assert "larger than 1 MB" in raised.value.errors["logo"]


def test_set_and_remove_logo(db: Database) -> None:
    organization_id = make_organization(db)
    with pytest.raises(InvalidDetails):
        set_logo(db, organization_id, b"not an image")
    assert get_logo(db) is None
    set_logo(db, organization_id, image("PNG", (300, 100)), clock=fixed_clock)
    found = get_logo(db)
    assert found is not None
    assert found[1] == "image/png"
    assert get_profile(db, organization_id).has_logo
    remove_logo(db, organization_id, clock=fixed_clock)
    assert get_logo(db) is None
