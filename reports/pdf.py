"""The agency report as PDF: the same HTML page the e-mail and the file show, laid out for print
by WeasyPrint (so the PDF can never say something the HTML does not)."""

from __future__ import annotations

import threading
from importlib.resources import files
from typing import Any

PRINT_CSS = "print.css"
_local = threading.local()


def html_pdf(html: str) -> bytes:
    """The page as PDF; it may load nothing from files or the network (only `data:` URLs)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    stylesheet, fonts = _print_setup()
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",)))
    pdf = document.write_pdf(stylesheets=[stylesheet], font_config=fonts, presentational_hints=True)
    return bytes(pdf)


def _print_setup() -> tuple[Any, Any]:
    """The print stylesheet and the font configuration, made once per thread: they take
    longer than laying out a short report, and WeasyPrint's font objects are not shared
    between threads."""
    if not hasattr(_local, "setup"):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        text = files("onemind.reports").joinpath("templates", PRINT_CSS).read_text("utf-8")
        _local.setup = (CSS(string=text, font_config=fonts), fonts)
    return _local.setup
