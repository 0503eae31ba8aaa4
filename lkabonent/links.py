"""The links every page has: the menu, the stylesheet, the scripts."""

from collections.abc import Callable
from functools import lru_cache

from flask import request, url_for


def fixed_url_builder() -> Callable[..., str]:
    """A url_for() for the layout's links to endpoints that take no values (or to a static
    file), which builds each once per application root (SCRIPT_NAME) instead of on every page:
    the layout has a dozen, and building them cost a tenth of a page."""

    @lru_cache(maxsize=256)
    def build(script_root: str, endpoint: str, filename: str | None) -> str:
        return url_for(endpoint, filename=filename) if filename else url_for(endpoint)

    def fixed_url(endpoint: str, filename: str | None = None) -> str:
        return build(request.script_root, endpoint, filename)

    return fixed_url
