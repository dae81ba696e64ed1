"""The bundled DejaVu Sans faces, prepared once per process and handed to each new FPDF for almost nothing.

``FPDF.add_font`` parses the whole TrueType file (6,000 glyphs) and ``FPDF.output`` parses and subsets
it again: more than 200 ms per document. Instead:

- each face is cut down once to the scripts invoices are written in (``_COVERAGE``: Latin, Greek,
  Cyrillic, punctuation, currency signs) and its metrics are parsed once;
- a document gets a copy of those metrics (``install_fonts``) and lays out its text with them;
- just before the file is written (``embed_fonts``), each face gets a font file holding only the
  blocks of characters the document used: the common characters (``_BASE``) plus a 64-code-point block
  for each other character. Those files are cached per combination of blocks, so a usual invoice
  embeds a font of about 120 glyphs, which fpdf2 subsets in a few milliseconds.

Text reaches a page only through ``PortalPdf.normalize_text`` (fpdf2 calls it from every method that
draws or measures text) and the file's metadata only through its setters: both pass it through
``printable`` first, so no field of any document (a name with a zero-width space, an address with a
right-to-left override) can fail a PDF or hide in it, whichever renderer draws it.

fpdf2 changes a font object while it writes the file, so every document opens its own from the cached
bytes. The caches are filled under a lock and only read afterwards: rendering is safe from any thread.
This reaches into fpdf2's font classes (``TTFFont``, ``SubsetMap``); the PDF tests cover every step.
"""

from __future__ import annotations

import copy
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools import subset as font_subset  # type: ignore[import-untyped]  # fontTools ships no types
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF, ViewerPreferences
from fpdf.fonts import SubsetMap, TTFFont

from services.i18n import html_lang

FONT_DIR = Path(__file__).with_name("fonts")
FAMILY = "DejaVuSans"
REGULAR = ""
BOLD = "B"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
# The fast path: a document whose every character is in Windows-1252 (the PDF's WinAnsiEncoding: ASCII,
# the Western European letters, the euro sign, typographic quotes and dashes) is set in the standard
# Helvetica every PDF reader carries, so no font goes into the file. Embedding DejaVu Sans, even cut
# down to the characters used, takes most of the time a one-page invoice takes to render.
CORE_FAMILY = "Helvetica"
CORE_ENCODING = "cp1252"

# Code points the faces keep. Anything else is mapped by ``printable``.
_COVERAGE = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x02B0, 0x036F),  # spacing modifier letters, combining marks left over after NFC
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x04FF),  # Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese, Welsh)
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x214F),  # letterlike symbols (numero sign, trade mark sign)
    (0x2212, 0x2212),  # minus sign, used by some locales for negative amounts
    (0xFFFD, 0xFFFD),  # replacement character
)
# Characters nearly every invoice prints, embedded always: ASCII, the spaces, dashes, quotes and bullets
# of labels and formatted amounts, and the commonest currency signs.
_BASE = (
    frozenset(range(0x20, 0x7F))
    | {0xA0, 0xA3, 0xA5, 0xB7, 0x2013, 0x2014, 0x2018, 0x2019}
    | {0x201C, 0x201D, 0x2022, 0x2026, 0x202F, 0x20AC, 0x2212, 0xFFFD}
)
_BLOCK_BITS = 6  # other characters come in blocks of 64 code points
_BASE_BLOCK = -1
_REPLACEMENT = "?"
# Every way of breaking a line becomes "\n", the one the renderers split paragraphs at.
_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\v\f\x85\u2028\u2029", "\n"))
# Babel writes the narrow no-break space (U+202F, not in Windows-1252) in a few locales' amounts, e.g.
# "1 234,56 €" in fr_FR: Helvetica prints it as a no-break space. The choice of font and the text drawn
# use the same mapping (``drawn``).
_TO_CORE = str.maketrans({"\u202f": "\u00a0"})
# Tables fpdf2 leaves out of the embedded font anyway (layout, kerning, bitmaps).
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "FFTM", "hdmx", "MATH")

_lock = threading.RLock()


@dataclass(frozen=True)
class _Face:
    style: str
    data: bytes  # the face cut down to _COVERAGE
    metrics: TTFFont  # parsed from ``data`` once; only ever copied, never written into a PDF itself
    block_of_glyph: dict[str, int]  # glyph name -> its block, _BASE_BLOCK for the common characters


def preload_fonts() -> None:
    """Prepare the bundled faces now (a few hundred ms), so that the first PDF is as fast as the rest."""
    for style in _FILES:
        _font_file(style, frozenset())


def install_fonts(pdf: FPDF) -> None:
    """Make ``FAMILY`` (regular and bold) available to ``pdf`` as ``pdf.add_font`` would, but cheaply.

    Call ``embed_fonts(pdf)`` after the last text is written and before ``pdf.output()``.
    """
    for style in _FILES:
        pdf.fonts[_fontkey(style)] = _font_for_document(_face(style), index=len(pdf.fonts) + 1)


def embed_fonts(pdf: FPDF, *, still_to_write: str = "") -> None:
    """Give each installed face the smallest cached font file holding every glyph the document uses.

    Call it after the text is laid out and before ``pdf.output()``. ``still_to_write`` is text that will
    be drawn later all the same: fpdf2 draws the last page's footer inside ``output()``.
    """
    for style in _FILES:
        font = pdf.fonts[_fontkey(style)]
        if not isinstance(font, TTFFont):  # pragma: no cover - install_fonts put a TTFFont there
            continue
        face = _face(style)
        names = [
            *font.subset.get_all_glyph_names(),
            *(face.metrics.cmap.get(ord(c), "") for c in still_to_write),
        ]
        used = {face.block_of_glyph.get(name, _BASE_BLOCK) for name in names}
        font.ttfont = _open(_font_file(style, frozenset(used - {_BASE_BLOCK})))


class PortalPdf(FPDF):
    """The base of the portal's PDFs: whatever text a renderer hands fpdf2, it is drawn as ``printable``
    makes it, and in the standard Helvetica (``core_fonts_encoding`` set) as ``drawn`` maps it."""

    embeds_fonts: bool  # both set by ``choose_fonts``
    typeface: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A reader shows (and a screen reader announces) the document's title, not its file name.
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)

    def choose_fonts(self, *, core_font: bool) -> None:
        """Set the document in the standard Helvetica (``core_font``, see ``CORE_FAMILY``) or in the
        bundled DejaVu Sans, embedded; ``typeface`` is the family to draw with."""
        self.embeds_fonts = not core_font
        self.typeface = FAMILY if self.embeds_fonts else CORE_FAMILY
        if self.embeds_fonts:
            install_fonts(self)
        else:
            self.core_fonts_encoding = CORE_ENCODING

    def describe(self, *, title: str, author: str, subject: str | None, created: datetime) -> None:
        """The file's metadata: ``title``, ``author`` and ``subject`` (none without), the portal as its
        creator, the language its words are in and the time it was ``created``."""
        self.set_title(title)
        self.set_author(author)
        if subject is not None:
            self.set_subject(subject)
        self.set_creator("Invoicing Portal")
        self.set_lang(html_lang())
        self.set_creation_date(created)

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(drawn(text, core_font=not self.is_ttf_font))

    def set_title(self, title: str) -> None:
        super().set_title(printable(title))

    def set_subject(self, subject: str) -> None:
        super().set_subject(printable(subject))

    def set_author(self, author: str | Sequence[str]) -> None:
        super().set_author(printable(author) if isinstance(author, str) else [printable(a) for a in author])


def drawn(text: str, *, core_font: bool) -> str:
    """``text`` exactly as a portal PDF draws it: ``printable``, and in Helvetica (``core_font``) with the
    narrow no-break space as a no-break space. Applying it twice changes nothing."""
    text = printable(text)
    return text.translate(_TO_CORE) if core_font else text


def printable(text: str) -> str:
    """``text`` in characters the embedded faces can draw.

    Line and paragraph separators (``\r\n``, ``\r``, U+2028, ...) become ``\n`` and a tab a space;
    unpaired surrogates (which no font or PDF string can hold) become U+FFFD. Text is then composed (NFC),
    so a decomposed ``é`` prints as one letter; a character outside the faces gets its compatibility form
    when that one is printable (full-width ``￥`` becomes ``¥``); invisible control and format characters
    (a zero-width space, a right-to-left override, a byte-order mark, a soft hyphen) are dropped;
    anything else becomes ``?``.
    """
    if text.isascii() and text.isprintable():
        return text
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
    if any("\ud800" <= char <= "\udfff" for char in text):
        # A pair written as two surrogates is one character again; a lone one is replaced.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = unicodedata.normalize("NFC", text)
    covered = _covered()
    if all(ord(char) in covered for char in text):
        return text
    return "".join(_printable_char(char, covered) for char in text)


def _printable_char(char: str, covered: frozenset[int]) -> str:
    if ord(char) in covered or char == "\n":
        return char
    compatible = unicodedata.normalize("NFKC", char)
    if all(ord(c) in covered for c in compatible):
        return compatible
    if char == "\t":
        return " "
    if unicodedata.category(char) in ("Cc", "Cf"):
        return ""
    return _REPLACEMENT


@cache
def _covered() -> frozenset[int]:
    # What the regular face maps (the bold face maps the same code points), less the invisible
    # control and format characters: printed or not, they would only confuse copying and searching.
    return frozenset(
        code for code in _face(REGULAR).metrics.cmap if unicodedata.category(chr(code)) not in ("Cc", "Cf")
    )


def _fontkey(style: str) -> str:
    return f"{FAMILY.lower()}{style}"


def _block(code: int) -> int:
    return _BASE_BLOCK if code in _BASE else code >> _BLOCK_BITS


def _open(data: bytes) -> TTFont:
    # recalcBBoxes=False: the glyph boxes are already right, and recomputing them would decode every
    # glyph outline again while fpdf2 saves the subset.
    return TTFont(BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)


def _face(style: str) -> _Face:
    with _lock:
        return _load_face(style)


@cache
def _load_face(style: str) -> _Face:
    font = TTFont(FONT_DIR / _FILES[style], lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    data = _subset(font, unicodes=[code for first, last in _COVERAGE for code in range(first, last + 1)])
    # fontTools reads a file object as well as a path; fpdf2 annotates only the path.
    metrics = TTFFont(FPDF(), BytesIO(data), _fontkey(style), style)  # type: ignore[arg-type]
    block_of_glyph: dict[str, int] = {}
    for code, name in sorted(metrics.cmap.items(), key=lambda item: _block(item[0])):
        block_of_glyph.setdefault(name, _block(code))  # a glyph shared by several code points: the lowest
    return _Face(style, data, metrics, block_of_glyph)


def _font_file(style: str, blocks: frozenset[int]) -> bytes:
    with _lock:
        return _load_font_file(style, blocks)


@lru_cache(maxsize=64)  # each file is 10 to 60 kB
def _load_font_file(style: str, blocks: frozenset[int]) -> bytes:
    face = _face(style)
    wanted = blocks | {_BASE_BLOCK}
    return _subset(
        _open(face.data), glyphs=[name for name, block in face.block_of_glyph.items() if block in wanted]
    )


def _subset(font: TTFont, *, unicodes: list[int] | None = None, glyphs: list[str] | None = None) -> bytes:
    options = font_subset.Options()
    options.glyph_names = True  # a document finds its glyphs by name in every cut of the face
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    # PDF viewers do not run TrueType hinting programs; without them the font is half the size.
    options.hinting = False
    subsetter = font_subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes or [], glyphs=glyphs or [])
    subsetter.subset(font)
    output = BytesIO()
    font.save(output)
    return output.getvalue()


def _font_for_document(face: _Face, *, index: int) -> TTFFont:
    font = copy.copy(face.metrics)  # shares the read-only parts: cmap, name, scale, metrics
    font.i = index
    # Until embed_fonts picks a smaller one, the whole cut-down face (opening it lazily costs nothing).
    font.ttfont = _open(face.data)
    # Everything fpdf2 writes to while laying out and saving a document is the document's own.
    font.desc = copy.copy(face.metrics.desc)  # gets the document's object number and font file
    font.cw = copy.copy(face.metrics.cw)
    font.glyph_ids = dict(face.metrics.glyph_ids)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    return font
