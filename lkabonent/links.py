"""The templates' url_for: a page writes up to a few dozen links, mostly the same ones on
every request (the menu, the stylesheet, the pages of a table), and werkzeug builds each anew,
at several microseconds each."""

from collections.abc import Callable
from functools import lru_cache

from flask import has_request_context, request, url_for

# Values whose equal ones of the same type write the same link (unlike 1.0 and 1.00, or -0.0).
KEYABLE = frozenset({str, int, bool, type(None)})


def template_url_for() -> Callable[..., str]:
    """A url_for for the templates that remembers the links it built, per application root
    (SCRIPT_NAME), endpoint and values. What a cache cannot key goes to url_for as it is: an
    endpoint relative to the blueprint (".page"), the options (_external, _anchor…), values
    other than strings, numbers and None, and templates rendered outside a request (mail)."""

    @lru_cache(maxsize=4096)
    def build(script_root: str, endpoint: str, values: tuple) -> str:
        return url_for(endpoint, **{key: value for key, _, value in values})

    def cached_url_for(endpoint: str, **values) -> str:
        if (
            endpoint.startswith(".")
            or not has_request_context()
            or any(
                key.startswith("_") or type(value) not in KEYABLE for key, value in values.items()
            )
        ):
            return url_for(endpoint, **values)
        # The type is part of the key: True and 1 are equal, but make different links.
        key = tuple((name, type(value), value) for name, value in values.items())
        return build(request.script_root, endpoint, key)

    return cached_url_for
