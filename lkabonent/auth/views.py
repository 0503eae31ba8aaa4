"""Start page, login, logout, two-step registration and recovery, password change."""

import math
from urllib.parse import urlsplit

from flask import current_app, flash, render_template, request, url_for
from flask_login import current_user, login_required

from ..clock import utcnow
from ..errors import render_error
from ..extensions import db, limiter, login_manager
from ..htmx import is_htmx, redirect_to, render, wants_fragment
from ..mail import deliver_queued
from ..models import EmailedPassword
from . import bp
from .forms import ChangePasswordForm, LoginForm, RecoverForm, RegisterForm, RequestPasswordForm
from .services import (
    AlreadyRegistered,
    JustUsed,
    LoginPaused,
    authenticate,
    change_password,
    login_key,
    recover,
    redeem_emailed_password,
    register,
    request_emailed_password,
)
from .sessions import (
    browser_of,
    end_other_sessions,
    end_session,
    had_session,
    start_session,
    user_sessions,
)

WRONG_EMAILED_PASSWORD = (
    "Пароль неверен или срок его действия истек. Проверьте, правильно ли он введен, "
    "или получите новый пароль."
)
WRONG_LOGIN = "Неверный логин или пароль."
# The other request of a double submission has just registered or recovered with the password,
# which is now the cabinet's: it is no wrong password.
JUST_USED = (
    "Этот пароль только что использован — похоже, форма была отправлена дважды. "
    "Войдите в личный кабинет с этим паролем."
)

# The two flows that send a password by mail share one form, one template and these settings.
FLOWS = {
    "register": {
        "purpose": EmailedPassword.REGISTER,
        "title": "Регистрация",
        "start": "auth.register_start",
        "request": "auth.register_request",
        "confirm": "auth.register_confirm",
        "confirm_form": RegisterForm,
        "submit": "Зарегистрироваться",
        "help_topic": "registration",
    },
    "recover": {
        "purpose": EmailedPassword.RESET,
        "title": "Восстановление доступа",
        "start": "auth.recover_start",
        "request": "auth.recover_request",
        "confirm": "auth.recover_confirm",
        "confirm_form": RecoverForm,
        "submit": "Войти",
        "help_topic": "recovery",
    },
}


def _email_key() -> str:
    """Rate-limit key: the login being asked for, normalised."""
    return "email:" + login_key(request.form.get("email", ""))


def _password_failure(response) -> bool:
    """Only refused passwords count against the per-client limit of password entries."""
    return response.status_code == 422


password_request_per_email = limiter.shared_limit(
    lambda: current_app.config["PASSWORD_REQUEST_LIMIT_PER_EMAIL"],
    scope="password-request-email",
    key_func=_email_key,
)
password_request_per_client = limiter.shared_limit(
    lambda: current_app.config["PASSWORD_REQUEST_LIMIT_PER_CLIENT"],
    scope="password-request-client",
)
password_failures_per_client = limiter.shared_limit(
    lambda: current_app.config["PASSWORD_FAILURE_LIMIT_PER_CLIENT"],
    scope="password-failures",
    deduct_when=_password_failure,
)


def _safe_next(target: str | None) -> str:
    """The ``next`` page if it is a path on this site, else the cabinet's main page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("cabinet.index")


def _render_flow(flow: str, step: int, form, status: int = 200, **context):
    """Render step 1 or 2 of a flow that sends a password by mail."""
    return render(
        "auth/emailed_password.html",
        "auth/_partials/emailed_password_form.html",
        status=status,
        flow=flow,
        settings=FLOWS[flow],
        step=step,
        form=form,
        **context,
    )


def _render_login(form, status: int = 200, error: str | None = None):
    """Render the login form, with a message about the whole form if there is one."""
    return render(
        "auth/login.html",
        "auth/_partials/login_form.html",
        status=status,
        form=form,
        error=error,
        next_page=request.values.get("next", ""),
    )


@login_manager.unauthorized_handler
def unauthorized():
    """To the login form, and back to the page asked for once logged in."""
    if is_htmx():
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
    else:
        target = request.full_path if request.method == "GET" else ""
    if had_session():
        flash("Сеанс входа завершен. Войдите снова, чтобы продолжить.", "info")
    else:
        flash("Войдите в личный кабинет, чтобы продолжить.", "info")
    return redirect_to(url_for("auth.login", next=target.rstrip("?") or None))


@bp.get("/")
def start():
    """The public start page; a logged-in user goes straight to the cabinet."""
    if current_user.is_authenticated:
        return redirect_to(url_for("cabinet.index"))
    return render_template("auth/start.html")


@bp.get("/login")
def login():
    """The login form."""
    if current_user.is_authenticated:
        return redirect_to(url_for("cabinet.index"))
    return _render_login(LoginForm())


@bp.post("/login")
@password_failures_per_client
def login_submit():
    """«Войти»: one answer for an unknown login, a wrong password and a disabled cabinet."""
    form = LoginForm()
    if not form.validate():
        return _render_login(form, 422)
    try:
        user = authenticate(login_key(form.email.data), form.password.data, request.remote_addr)
    except LoginPaused as paused:
        return _retry_later(
            _render_login(
                form,
                429,
                error=(
                    "Слишком много неудачных попыток входа с этим логином, вход с ним "
                    f"приостановлен. Повторите через {_minutes(paused.seconds)} мин. или "
                    "получите новый пароль по ссылке «Забыли пароль?»."
                ),
            ),
            paused.seconds,
        )
    if user is None:
        db.session.commit()  # keep the failure, counted against the login
        return _render_login(form, 422, error=WRONG_LOGIN)
    start_session(user)
    db.session.commit()
    return redirect_to(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """«Выйти»: end the session on the server, not only in the browser."""
    end_session()
    db.session.commit()
    return redirect_to(url_for("auth.start"))


def _flow_start(flow: str):
    """Step 1, with the address filled in when the subscriber came back to change it."""
    form = RequestPasswordForm(formdata=None, data={"email": request.args.get("email", "")})
    return _render_flow(flow, 1, form)


def _flow_request(flow: str):
    """«Получить пароль»: queue the mail, send it after the commit, show step 2."""
    form = RequestPasswordForm()
    if not form.validate():
        return _render_flow(flow, 1, form, 422)
    request_emailed_password(form.email.data, FLOWS[flow]["purpose"], request.remote_addr)
    db.session.commit()
    sent = deliver_queued()
    confirm_form = FLOWS[flow]["confirm_form"](formdata=None, data={"email": form.email.data})
    return _render_flow(flow, 2, confirm_form, just_sent=True, mail_failed=not sent)


def _flow_confirm_page(flow: str):
    """Step 2 on its own, for someone who already has the mail: the address is editable."""
    form = FLOWS[flow]["confirm_form"](formdata=None, data={"email": request.args.get("email", "")})
    return _render_flow(flow, 2, form, email_editable=True)


def _flow_confirm(flow: str):
    """Step 2: use the emailed password to register or to recover access, then log in."""
    form = FLOWS[flow]["confirm_form"]()
    if not form.validate():
        return _render_flow(flow, 2, form, 422, email_editable=bool(form.email.errors))
    try:
        issued = redeem_emailed_password(
            form.email.data, FLOWS[flow]["purpose"], form.password.data
        )
    except JustUsed:
        db.session.rollback()
        return _render_flow(flow, 2, form, 422, error=JUST_USED)
    if issued is None:
        db.session.commit()  # keep the count of wrong tries
        form.password.errors.append(WRONG_EMAILED_PASSWORD)
        return _render_flow(flow, 2, form, 422)
    if flow == "register":
        try:
            user = register(form.email.data, issued, request.remote_addr)
        except AlreadyRegistered:
            db.session.rollback()
            form.email.errors.append(
                "Для этого адреса кабинет уже создан. Войдите или восстановите доступ."
            )
            return _render_flow(flow, 2, form, 422)
    else:
        user = recover(issued)
    start_session(user)
    db.session.commit()
    return redirect_to(url_for("cabinet.index"))


@bp.get("/register")
def register_start():
    """«Зарегистрироваться», step 1: «Логин»."""
    return _flow_start("register")


@bp.post("/register")
@password_request_per_email
@password_request_per_client
def register_request():
    """«Получить пароль»: mail a password and show step 2."""
    return _flow_request("register")


@bp.get("/register/confirm")
def register_confirm_page():
    """Step 2 for someone who already has the mail (came back later, or without JavaScript)."""
    return _flow_confirm_page("register")


@bp.post("/register/confirm")
@password_failures_per_client
def register_confirm():
    """«Зарегистрироваться»: create the cabinet with the emailed password and log in."""
    return _flow_confirm("register")


@bp.get("/password/forgot")
def recover_start():
    """«Забыли пароль?», step 1: «Логин»."""
    return _flow_start("recover")


@bp.post("/password/forgot")
@password_request_per_email
@password_request_per_client
def recover_request():
    """«Получить пароль» for an existing cabinet."""
    return _flow_request("recover")


@bp.get("/password/forgot/confirm")
def recover_confirm_page():
    """Step 2 of recovery, for someone who already has the mail."""
    return _flow_confirm_page("recover")


@bp.post("/password/forgot/confirm")
@password_failures_per_client
def recover_confirm():
    """Log in with the emailed password, which becomes the cabinet's password."""
    return _flow_confirm("recover")


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def password_change():
    """«Сменить пароль»."""
    form = ChangePasswordForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            refusal = change_password(
                current_user, form.current_password.data, form.new_password.data
            )
            if refusal is None:
                db.session.commit()
                flash("Пароль изменен. Другие сеансы входа завершены.", "success")
                if not deliver_queued():
                    flash(
                        "Уведомление о смене пароля не удалось отправить сразу; "
                        "мы повторим отправку.",
                        "warning",
                    )
                return redirect_to(url_for("cabinet.index"))
            getattr(form, refusal.field).errors.append(refusal.message)
    return render(
        "auth/password_change.html",
        "auth/_partials/password_change_form.html",
        status=status,
        form=form,
    )


@bp.get("/sessions")
@login_required
def sessions():
    """«Сеансы входа»: where the cabinet is open now."""
    return _render_sessions()


@bp.post("/sessions/end-others")
@login_required
def sessions_end_others():
    """«Завершить все другие сеансы»: every session of the user but this one ends."""
    ended = end_other_sessions(current_user)
    db.session.commit()
    message = f"Другие сеансы завершены: {ended}." if ended else "Других сеансов уже не было."
    if wants_fragment():
        return _render_sessions(message=message)
    flash(message, "success")
    return redirect_to(url_for("auth.sessions"))


def _render_sessions(**context):
    """The sessions page, or to htmx the table and its button."""
    return render(
        "auth/sessions.html",
        "auth/_partials/sessions.html",
        sessions=user_sessions(current_user),
        browser_of=browser_of,
        **context,
    )


# Forms whose POST can hit a rate limit, and how to show them again with the message.
_LIMITED_FORMS = {
    "auth.login_submit": lambda message: _render_login(LoginForm(), 429, error=message),
    "auth.register_request": lambda message: _render_flow(
        "register", 1, RequestPasswordForm(), 429, error=message
    ),
    "auth.recover_request": lambda message: _render_flow(
        "recover", 1, RequestPasswordForm(), 429, error=message
    ),
    "auth.register_confirm": lambda message: _render_flow(
        "register", 2, RegisterForm(), 429, error=message, email_editable=True
    ),
    "auth.recover_confirm": lambda message: _render_flow(
        "recover", 2, RecoverForm(), 429, error=message, email_editable=True
    ),
}


@bp.errorhandler(429)
def too_many_requests(error):
    """Over a limit: the same form again, saying when to try again."""
    renderer = _LIMITED_FORMS.get(request.endpoint)
    if renderer is None:
        return render_error(error)
    current = limiter.current_limit
    seconds = max(1, math.ceil(current.reset_at - utcnow().timestamp())) if current else 60
    return _retry_later(
        renderer(f"Слишком много попыток. Повторите через {_minutes(seconds)} мин."), seconds
    )


def _minutes(seconds: int) -> int:
    """Whole minutes to wait, rounded up: never «через 0 мин.»."""
    return math.ceil(seconds / 60)


def _retry_later(response, seconds: int):
    """A refusal for now, saying in Retry-After when to try again."""
    response.headers["Retry-After"] = str(seconds)
    return response
