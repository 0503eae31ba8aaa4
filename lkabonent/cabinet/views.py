"""The cabinet's main page and «Лицевые счета»: the list, «Привязать», «Отвязать»."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..billing.services import last_received
from ..extensions import db, login_manager
from ..htmx import redirect_to, render, wants_fragment
from . import bp
from .forms import LinkAccountForm
from .services import LinkOutcome, link_account, linked_account, linked_accounts, unlink_account

LINK_MESSAGES = {
    LinkOutcome.REFUSED: (
        "Не удалось привязать лицевой счет: проверьте номер по квитанции и фамилию собственника. "
        "Если все указано верно, обратитесь в абонентскую службу."
    ),
    LinkOutcome.TOO_MANY: (
        "Слишком много неудачных попыток привязать лицевой счет. Повторите через час "
        "или обратитесь в абонентскую службу."
    ),
    LinkOutcome.NUMBER_LOCKED: (
        "По этому номеру лицевого счета слишком много неудачных попыток. Повторите завтра "
        "или обратитесь в абонентскую службу."
    ),
    LinkOutcome.ALREADY_LINKED: "Этот лицевой счет уже привязан к вашему кабинету.",
}


# Retry-After of the failure limits, in seconds: the user's failures count over an hour, the
# failures on a number over a day.
LINK_RETRY_AFTER = {LinkOutcome.TOO_MANY: 3600, LinkOutcome.NUMBER_LOCKED: 86400}


@bp.before_request
def require_login():
    """Every page of the cabinet needs a logged-in user."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _accounts_page():
    """The page of the accounts table that the query string asks for."""
    return linked_accounts(
        current_user,
        request.args.get("page", 1, type=int),
        current_app.config["ACCOUNTS_PER_PAGE"],
    )


@bp.get("/")
def index():
    """The cabinet's main page."""
    page = linked_accounts(current_user, 1, current_app.config["ACCOUNTS_PER_PAGE"])
    return render_template("cabinet/index.html", page=page, received=last_received())


@bp.get("/accounts")
def accounts():
    """«Просмотр лицевых счетов»: the table, one page at a time."""
    return render(
        "cabinet/accounts.html", "cabinet/_partials/accounts_table.html", page=_accounts_page()
    )


@bp.route("/accounts/link", methods=["GET", "POST"])
def link():
    """«Привязать лицевой счет» by its number and the owner's surname."""
    form = LinkAccountForm()
    status, outcome = 200, None
    if form.is_submitted():
        status = 422
        if form.validate():
            outcome = link_account(
                current_user, form.number.data, form.surname.data, request.remote_addr
            )
            db.session.commit()
            if outcome is LinkOutcome.LINKED:
                flash(f"Лицевой счет {form.number.data} привязан.", "success")
                return redirect_to(url_for("cabinet.accounts"))
            status = {
                LinkOutcome.TOO_MANY: 429,
                LinkOutcome.NUMBER_LOCKED: 429,
                LinkOutcome.ALREADY_LINKED: 200,
            }.get(outcome, 422)
    response = render(
        "cabinet/link.html",
        "cabinet/_partials/link_form.html",
        status=status,
        form=form,
        message=LINK_MESSAGES.get(outcome),
        already_linked=outcome is LinkOutcome.ALREADY_LINKED,
    )
    if outcome in LINK_RETRY_AFTER:
        response.headers["Retry-After"] = str(LINK_RETRY_AFTER[outcome])
    return response


@bp.route("/accounts/<number>/unlink", methods=["GET", "POST"])
def unlink(number):
    """«Отвязать»: a confirmation page without JavaScript, htmx asks in a dialog."""
    account = linked_account(current_user, number)
    if account is None:
        abort(404)
    if request.method == "GET":
        return render_template("cabinet/unlink.html", account=account)
    unlink_account(current_user, account)
    db.session.commit()
    notice = f"Лицевой счет {account.number} отвязан."
    if wants_fragment():
        return render(
            "cabinet/accounts.html",
            "cabinet/_partials/accounts_table.html",
            page=_accounts_page(),
            notice=notice,
        )
    flash(notice, "success")
    return redirect(url_for("cabinet.accounts"), 303)
