"""The templates' url_for, which remembers the links it built."""

from decimal import Decimal


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
