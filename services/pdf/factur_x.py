"""Make an fpdf2 document a Factur-X / ZUGFeRD invoice: PDF/A-3b with the CII XML attached.

What PDF/A-3 asks beyond what fpdf2 writes for every portal PDF (every font embedded is the caller's
part: the invoice renderer then never uses the standard Helvetica):
- PDF 1.7, and an output intent with an ICC profile (fpdf2's own sRGB), so the colours mean something;
- XMP metadata saying the part and conformance (3, B), with the same title, author, subject, creator
  and creation date as the document information dictionary (which stays for readers that show only it);
- the attachment as an associated file of the document (``/AF``) with its relationship and media type.

Factur-X adds the attachment's name (``factur-x.xml``) and, in the XMP, its own extension schema saying
the document type, file name, version and profile. Everything is dated by the invoice (its issue date),
not by the clock, so the same invoice gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from fpdf import FPDF
from fpdf.enums import OutputIntentSubType
from fpdf.output import PDFICCProfile
from fpdf.util import builtin_srgb2014_bytes

from services.e_invoice import CONFORMANCE_LEVEL, FILE_NAME
from services.i18n import _

FACTUR_X_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTUR_X_VERSION = "1.0"
RELATIONSHIP = "Alternative"  # the XML is the invoice itself, in another form (Factur-X 1.0 and ZUGFeRD 2)
MEDIA_TYPE = "text/xml"
PDF_VERSION = "1.7"  # what PDF/A-3 is based on

_EXTENSION_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def make_factur_x(pdf: FPDF, xml: bytes, *, language: str) -> None:
    """Attach ``xml`` to ``pdf`` as its Factur-X data and make it PDF/A-3b.

    Call it after the title, author, subject, creator and creation date are set, before ``output()``.
    """
    pdf.pdf_version = max(pdf.pdf_version, PDF_VERSION)
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier="sRGB",
        output_condition="IEC 61966-2-1:1999",
        registry_name="http://www.color.org",
        dest_output_profile=PDFICCProfile(contents=builtin_srgb2014_bytes(), n=3, alternate="DeviceRGB"),
        info="sRGB2014 (v2)",
    )
    pdf.embed_file(
        bytes=xml,
        basename=FILE_NAME,
        modification_date=pdf.creation_date,
        mime_type=MEDIA_TYPE,
        associated_file_relationship=RELATIONSHIP,
        desc=_("Factur-X invoice data (EN 16931)"),
        compress=True,
    )
    pdf.set_xmp_metadata(_xmp(pdf, language))


def _xmp(pdf: FPDF, language: str) -> str:
    """The XMP packet's content (fpdf2 wraps it in ``<?xpacket?>``), from what the document says of itself."""
    created = _xmp_date(pdf.creation_date)
    author_set = getattr(pdf, "author", None)
    author = author_set if isinstance(author_set, str) else ""
    described = [
        _text_alt("dc:title", getattr(pdf, "title", None) or ""),
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>" if author else "",
        _text_alt("dc:description", getattr(pdf, "subject", None) or ""),
        f"<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>",
    ]
    creator = getattr(pdf, "creator", None) or ""
    properties = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(description)}</pdfaProperty:description>"
        "</rdf:li>"
        for name, description in _EXTENSION_PROPERTIES
    )
    return "\n".join(
        (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
            '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
            "<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>",
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            + "".join(described)
            + "</rdf:Description>",
            '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
            + (f"<xmp:CreatorTool>{escape(creator)}</xmp:CreatorTool>" if creator else "")
            + f"<xmp:CreateDate>{created}</xmp:CreateDate><xmp:ModifyDate>{created}</xmp:ModifyDate>"
            + f"<xmp:MetadataDate>{created}</xmp:MetadataDate></rdf:Description>",
            '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
            ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
            ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
            '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
            "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
            f"<pdfaSchema:namespaceURI>{FACTUR_X_NAMESPACE}</pdfaSchema:namespaceURI>"
            "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
            f"<pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>"
            "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>",
            f'<rdf:Description rdf:about="" xmlns:fx="{FACTUR_X_NAMESPACE}">'
            "<fx:DocumentType>INVOICE</fx:DocumentType>"
            f"<fx:DocumentFileName>{FILE_NAME}</fx:DocumentFileName>"
            f"<fx:Version>{FACTUR_X_VERSION}</fx:Version>"
            f"<fx:ConformanceLevel>{CONFORMANCE_LEVEL}</fx:ConformanceLevel></rdf:Description>",
            "</rdf:RDF>",
            "</x:xmpmeta>",
        )
    )


def _text_alt(tag: str, text: str) -> str:
    if not text:
        return ""
    return f'<{tag}><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt></{tag}>'


def _xmp_date(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
