"""Russian text helpers: plural forms."""

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


def test_plural_ru_is_a_template_filter(app):
    template = app.jinja_env.from_string('{{ n }} {{ n|plural_ru("минуту", "минуты", "минут") }}')
    assert [template.render(n=n) for n in (1, 3, 30)] == ["1 минуту", "3 минуты", "30 минут"]
