"""PDF documents of the portal's own pages, by WeasyPrint: a document laid out as the browser
prints it (the site's print stylesheet makes an A4 sheet of it), with the stylesheet, fonts and
images read from static/ on disk."""

import logging
import mimetypes
import os
import threading
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

# WeasyPrint warns of every rule of the site's stylesheet it does not support (screen widths,
# overflow-x…), once per process: noise in the logs. Its errors still show.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class StaticFiles(URLFetcher):
    """The resources a page may use in a PDF: files under ``folder``, which the page names by
    URLs starting with ``prefix``, and data: URLs. Nothing else: rendering never reaches out to
    the network, and a missing file stops it rather than leaving the PDF without its font."""

    def __init__(self, prefix: str, folder: str):
        super().__init__(allowed_protocols={"data"}, fail_on_errors=True)
        self.prefix = prefix
        self.path = urlsplit(prefix).path
        self.folder = folder

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(self.prefix):
            path = safe_join(self.folder, unquote(urlsplit(url).path[len(self.path) :]))
            if path and os.path.isfile(path):
                kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                # WeasyPrint closes the file once read.
                return URLFetcherResponse(url, open(path, "rb"), {"Content-Type": kind})
        raise FatalURLFetchingError(f"a PDF may use the portal's static files only, not {url}")


# The site's stylesheet, parsed, and the fonts of its @font-face rules, decoded, kept from one
# PDF to the next: parsing and decoding cost WeasyPrint more than laying out a receipt. One set
# per thread, since Pango's font maps are not shared across threads; the stylesheet is parsed
# again when its file changes.
_parsed = threading.local()

STYLESHEET = "css/site.css"


def _stylesheet(fetcher: StaticFiles) -> tuple[CSS, FontConfiguration]:
    path = os.path.join(fetcher.folder, STYLESHEET)
    changed = os.stat(path).st_mtime_ns
    if getattr(_parsed, "changed", None) != changed:
        fonts = FontConfiguration()
        css = CSS(url=fetcher.prefix + STYLESHEET, url_fetcher=fetcher, font_config=fonts)
        _parsed.changed, _parsed.css, _parsed.fonts = changed, css, fonts
    return _parsed.css, _parsed.fonts


# Where the document's relative URLs point: a name of the PDF's own, not the request's Host, so
# that the stylesheet parsed for one request serves the next whatever address it came to.
BASE_URL = "https://lkabonent.invalid/"


def pdf_of(html: str) -> bytes:
    """The PDF of a document (HTML without stylesheets of its own) laid out by the site's
    stylesheet for print. RuntimeError when it names a file the portal does not have."""
    fetcher = StaticFiles(
        BASE_URL + current_app.static_url_path.lstrip("/") + "/", current_app.static_folder
    )
    try:
        css, fonts = _stylesheet(fetcher)
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[css], font_config=fonts)
    except FatalURLFetchingError as error:
        # A BaseException: Flask's error handling would not see it.
        raise RuntimeError(str(error)) from error
