"""Russian text helpers: plural forms and the emailed password's lifetime."""

import pytest

from lkabonent.text import plural_ru


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "минут"),
        (1, "минуту"),
        (2, "минуты"),
        (4, "минуты"),
        (5, "минут"),
        (11, "минут"),
        (12, "минут"),
        (14, "минут"),
        (21, "минуту"),
        (22, "минуты"),
        (25, "минут"),
        (101, "минуту"),
        (111, "минут"),
    ],
)
def test_plural_ru_follows_russian_rules(n, form):
    assert plural_ru(n, "минуту", "минуты", "минут") == form


@pytest.mark.parametrize(
    ("seconds", "said"), [(60, "1 минуту"), (180, "3 минуты"), (1800, "30 минут")]
)
def test_password_lifetime_is_said_in_proper_russian(make_app, seconds, said):
    app = make_app(REGISTRATION_PASSWORD_TTL=seconds)
    with app.app_context():
        assert app.jinja_env.from_string("{{ password_lifetime() }}").render() == said
