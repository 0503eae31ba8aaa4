"""Links: the templates' url_for, and the version in the links to static files.

A page writes up to a few dozen links, mostly the same ones on every request (the menu, the
stylesheet, the pages of a table), and werkzeug builds each anew, at several microseconds each:
the templates' url_for remembers them.

A link to a static file carries a hash of the file's content (``/static/css/site.css?v=…``), so
that nginx may let browsers keep static files for a year (docs/deployment.md): a new version of
a file is a new URL, fetched at once.
"""

import hashlib
import os
from collections.abc import Callable
from functools import lru_cache

from flask import Flask, has_request_context, request, url_for
from werkzeug.security import safe_join

# Hex digits of the SHA-256 of a static file in its links: enough to tell its versions apart.
STATIC_VERSION_LENGTH = 12

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


def register_static_versions(app: Flask) -> None:
    """Add ``v=<hash of the file's content>`` to every link to a static file. Each file is read
    once per process: a new version of the portal is deployed with a restart."""

    @lru_cache(maxsize=1024)
    def version(filename: str) -> str | None:
        path = safe_join(app.static_folder, filename)
        if path is None or not os.path.isfile(path):  # outside static/, or no such file
            return None
        with open(path, "rb") as static_file:
            return hashlib.file_digest(static_file, "sha256").hexdigest()[:STATIC_VERSION_LENGTH]

    @app.url_defaults
    def static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            file_version = version(values.get("filename", ""))
            if file_version:
                values["v"] = file_version
