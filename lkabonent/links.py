"""The templates' url_for: a page writes up to a few dozen links, mostly the same ones on
every request (the menu, the stylesheet, the pages of a table), and werkzeug builds each anew at
about 10 µs — a tenth of a page's own work."""

from collections.abc import Callable
from functools import lru_cache

from flask import has_request_context, request, url_for


def template_url_for() -> Callable[..., str]:
    """A url_for for the templates that remembers the links it built, per application root
    (SCRIPT_NAME), endpoint and values. What a cache cannot key goes to url_for as it is: an
    endpoint relative to the blueprint (".page"), the options (_external, _anchor…) and
    values that cannot be hashed, and templates rendered outside a request (mail)."""

    @lru_cache(maxsize=4096)
    def build(script_root: str, endpoint: str, values: tuple) -> str:
        return url_for(endpoint, **{key: value for key, _, value in values})

    def cached_url_for(endpoint: str, **values) -> str:
        if (
            endpoint.startswith(".")
            or any(key.startswith("_") for key in values)
            or not has_request_context()
        ):
            return url_for(endpoint, **values)
        # The type is part of the key: True and 1 are equal, but make different links.
        key = tuple((name, type(value), value) for name, value in values.items())
        try:
            return build(request.script_root, endpoint, key)
        except TypeError:  # a value that cannot be hashed
            return url_for(endpoint, **values)

    return cached_url_for
