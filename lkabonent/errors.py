"""Error pages in Russian, in the site's layout, as a page or as an htmx fragment."""

from flask import current_app, g
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from .extensions import login_manager
from .htmx import render, wants_fragment

MESSAGES = {
    400: ("Некорректный запрос", "Запрос не удалось обработать. Вернитесь назад и повторите."),
    403: ("Доступ запрещен", "У вас нет доступа к этой странице."),
    404: ("Страница не найдена", "Такой страницы нет. Проверьте адрес или вернитесь на главную."),
    405: ("Некорректный запрос", "Так эту страницу открыть нельзя. Вернитесь на главную."),
    429: ("Слишком много запросов", "Вы отправили слишком много запросов. Повторите позже."),
    500: ("Ошибка на сервере", "Что-то пошло не так. Мы уже знаем об ошибке; повторите позже."),
    503: (
        "Сервис временно недоступен",
        "Личный кабинет сейчас не может получить данные. Повторите через несколько минут.",
    ),
}
# Seconds a client is asked to wait (Retry-After) when the database does not answer.
DATABASE_RETRY_AFTER = 60
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


def as_nobody() -> None:
    """Answer this request as to nobody in particular, once the database failed: loading the
    session's user (Flask-Login's current_user, which the response hooks read too) would ask
    the database again, and fail again, outside any error handler."""
    g._login_user = login_manager.anonymous_user()  # what Flask-Login's current_user returns


def database_unavailable(error: OperationalError | InterfaceError):
    """The database does not answer (down, restarting, unreachable): 503 with Retry-After, the
    error logged, shown to nobody in particular."""
    current_app.logger.error("database unavailable: %s", error)
    as_nobody()
    response = render_error(ServiceUnavailable())
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def register_errorhandlers(app) -> None:
    """Answer every HTTP error with a page of our own, and a database that does not answer with
    503."""
    for code in MESSAGES:
        app.register_error_handler(code, render_error)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
