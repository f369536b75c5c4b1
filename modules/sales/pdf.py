"""Quote and invoice PDFs: Jinja HTML (RTL, Jalali dates, ``<bdi>`` numbers, amount in words)
rendered by WeasyPrint with the self-hosted Vazirmatn from ``core/static/fonts``.

WeasyPrint may only read files under ``core/static`` (the fonts); any other URL in a
document is refused, so nothing typed into a customer's record can make the server fetch
anything.
"""

import threading
from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from core.database import get_setting
from modules.sales.models.documents import Invoice, Quote

STATIC_DIR = (Path(__file__).resolve().parent.parent.parent / "core" / "static").resolve()
FONT_DIR = STATIC_DIR / "fonts"
_local = threading.local()


class PdfFetchRefused(ValueError):
    """A document asked for a resource outside core/static."""


def _check_static(url: str) -> None:
    if not url.startswith("file://"):
        raise PdfFetchRefused(f"PDF documents may not load {url}")
    path = Path(url.removeprefix("file://").split("?")[0]).resolve()
    if not path.is_relative_to(STATIC_DIR):
        raise PdfFetchRefused(f"PDF documents may not load {path}")


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves files under core/static and nothing else."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)

    def fetch(self, url, headers=None):
        _check_static(url)
        return super().fetch(url, headers)


def font_config() -> FontConfiguration:
    """One font configuration per thread, reused (building one costs more than a page)."""
    config = getattr(_local, "fonts", None)
    if config is None:
        config = _local.fonts = FontConfiguration()
    return config


def render_pdf(html: str) -> bytes:
    """PDF bytes from document HTML (base URL: core/static, so ``fonts/…`` resolves)."""
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/",
                    url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(font_config=font_config())


def _language(language: str | None) -> str:
    if language in ("fa", "en"):
        return language
    stored = get_setting("display.language", "fa")
    return stored if stored in ("fa", "en") else "fa"


def _company() -> dict:
    return {key: get_setting(f"company.{key}", "") or "" for key in
            ("legal_name", "national_id", "economic_code", "postal_code", "address")}


def invoice_html(invoice: Invoice, language: str | None = None) -> str:
    """The invoice (or credit note) as print HTML in ``language`` (default: the deployment's)."""
    from modules.sales.invoices import party_fields, title

    language = _language(language)
    with force_locale(language):
        return render_template("sales/pdf/invoice.html", invoice=invoice,
                               parties=party_fields(invoice), title=title(invoice),
                               lang=language, font_dir=FONT_DIR.as_uri())


def quote_html(quote: Quote, language: str | None = None) -> str:
    """The quote's current version as print HTML."""
    from modules.sales.invoices import buyer_fields
    from modules.sales.quote_coupons import applied

    language = _language(language)
    with force_locale(language):
        return render_template("sales/pdf/quote.html", quote=quote, version=quote.current,
                               company=_company(), buyer=buyer_fields(quote.customer),
                               coupon=applied(quote), lang=language,
                               font_dir=FONT_DIR.as_uri())


def invoice_pdf(invoice: Invoice, language: str | None = None) -> bytes:
    return render_pdf(invoice_html(invoice, language))


def quote_pdf(quote: Quote, language: str | None = None) -> bytes:
    return render_pdf(quote_html(quote, language))


def filename(document) -> str:
    """A download name: invoice-1404-12.pdf, credit-note-1404-3.pdf, quote-1404-7-v2.pdf."""
    if isinstance(document, Quote):
        return f"quote-{document.reference}-v{document.version}.pdf"
    kind = "credit-note" if document.kind == "credit_note" else "invoice"
    return f"{kind}-{document.reference or f'draft-{document.id}'}.pdf"
