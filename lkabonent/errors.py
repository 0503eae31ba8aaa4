"""Error pages in Russian, in the site's layout, as a page or as an htmx fragment."""

from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .htmx import render, wants_fragment

MESSAGES = {
    400: ("Некорректный запрос", "Запрос не удалось обработать. Вернитесь назад и повторите."),
    403: ("Доступ запрещен", "У вас нет доступа к этой странице."),
    404: ("Страница не найдена", "Такой страницы нет. Проверьте адрес или вернитесь на главную."),
    405: ("Некорректный запрос", "Так эту страницу открыть нельзя. Вернитесь на главную."),
    429: ("Слишком много запросов", "Вы отправили слишком много запросов. Повторите позже."),
    500: ("Ошибка на сервере", "Что-то пошло не так. Мы уже знаем об ошибке; повторите позже."),
}
# A 404 to htmx comes from a button or link of a page already open: what it aimed at is gone.
STALE_MESSAGE = (
    "Не найдено",
    "Этих данных уже нет — возможно, они изменились в другой вкладке. Обновите страницу.",
)
CSRF_MESSAGE = (
    "Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите."
)


def render_error(error: HTTPException):
    """Render an HTTP error with its Russian title and explanation."""
    code = error.code or 500
    title, message = MESSAGES.get(code, MESSAGES[500])
    if code == 404 and wants_fragment():
        title, message = STALE_MESSAGE
    if isinstance(error, CSRFError):
        message = CSRF_MESSAGE
    return render(
        "errors/error.html",
        "errors/_partials/message.html",
        status=code,
        code=code,
        title=title,
        message=message,
    )


def register_errorhandlers(app) -> None:
    """Answer every HTTP error with a page of our own."""
    for code in MESSAGES:
        app.register_error_handler(code, render_error)
