"""PDF renderers built on fpdf2: plain data in, bytes out."""

from services.pdf.invoice import render_invoice_pdf

__all__ = ["render_invoice_pdf"]
