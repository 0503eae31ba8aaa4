"""The templates' url_for, which remembers the links it built."""

import hashlib
import re
from decimal import Decimal
from pathlib import Path

from flask import url_for


def test_a_remembered_link_depends_on_the_application_root_and_the_values(app):
    url_for = app.jinja_env.globals["url_for"]
    with app.test_request_context("/"):
        assert url_for("cabinet.charges", account="1", month="2026-10") == (
            "/cabinet/charges?account=1&month=2026-10"
        )
        assert url_for("cabinet.accounts", page=1) == "/cabinet/accounts?page=1"
        # Equal values of another type make another link.
        assert url_for("cabinet.accounts", page=True) == "/cabinet/accounts?page=True"
        # Values that are equal but written differently are not remembered.
        assert url_for("cabinet.accounts", page=Decimal("1.0")) == "/cabinet/accounts?page=1.0"
        assert url_for("cabinet.accounts", page=Decimal("1.00")) == "/cabinet/accounts?page=1.00"
        assert url_for("cabinet.accounts", _anchor="top") == "/cabinet/accounts#top"
    with app.test_request_context("/", base_url="http://localhost/lk/"):
        assert url_for("cabinet.charges", account="1", month="2026-10") == (
            "/lk/cabinet/charges?account=1&month=2026-10"
        )
        assert url_for("cabinet.accounts", page=1) == "/lk/cabinet/accounts?page=1"


def static_version(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


def test_a_static_link_carries_the_hash_of_its_file_read_once_per_app(make_app, tmp_path):
    (tmp_path / "css").mkdir()
    stylesheet = tmp_path / "css" / "site.css"
    stylesheet.write_bytes(b"body { color: black }")
    first = make_app()
    first.static_folder = str(tmp_path)
    with first.test_request_context("/"):
        assert url_for("static", filename="css/site.css") == (
            f"/static/css/site.css?v={static_version(b'body { color: black }')}"
        )
        # No such file, or a name outside static/: a plain link.
        assert url_for("static", filename="css/none.css") == "/static/css/none.css"
        assert url_for("static", filename="../secret") == "/static/../secret"

    stylesheet.write_bytes(b"body { color: navy }")
    with first.test_request_context("/"):  # read once: a new version comes with a restart
        assert url_for("static", filename="css/site.css").endswith(
            static_version(b"body { color: black }")
        )
    second = make_app()
    second.static_folder = str(tmp_path)
    with second.test_request_context("/"):
        assert url_for("static", filename="css/site.css") == (
            f"/static/css/site.css?v={static_version(b'body { color: navy }')}"
        )


def test_pages_link_every_static_file_with_its_version(app, client):
    page = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="/static/([^"?]+)(?:\?v=([0-9a-f]+))?"', page)
    assert {name for name, _ in links} >= {"css/site.css", "js/lkabonent.js"}
    for name, version in links:
        content = (Path(app.static_folder) / name).read_bytes()
        assert version == static_version(content), name
