"""The cabinet: the main page and its widgets, «Лицевые счета» («Привязать», «Отвязать»),
Расчеты, Задолженность, Произведенные платежи and the receipt («Печать квитанции»)."""

from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..billing.services import last_received, local_today
from ..extensions import db, limiter, login_manager
from ..htmx import redirect_to, render, wants_fragment
from ..meters.services import meter_cards, reading_month
from ..payment_qr import png_img
from ..payment_qr import svg as qr_svg
from ..text import money_ru, month_ru
from . import bp
from .chart import charts, svg, table_rows
from .finance import (
    PaymentFilter,
    charge_months,
    consumption,
    debts,
    latest_charge_month,
    latest_payments,
    month_param,
    payment_history,
    statement,
)
from .forms import LinkAccountForm
from .receipt import Receipt, due_date, receipt
from .services import (
    AccountChoice,
    LinkOutcome,
    account_choice,
    choose_account,
    link_account,
    linked_account,
    linked_accounts,
    unlink_account,
)

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


def chosen_accounts() -> AccountChoice:
    """The user's accounts and the one to show: ``?account=``, else the one chosen last in the
    selector. Another user's number answers 404, as a missing one does."""
    choice = account_choice(current_user, request.args.get("account") or None)
    if choice is None:
        abort(404)
    return choice


# The pages with the account selector, where choosing an account returns to.
SELECTOR_PAGES = (
    "cabinet.index",
    "cabinet.charges",
    "cabinet.consumption",
    "cabinet.receipt",
    "cabinet.meters.index",
)


@bp.post("/account")
def choose():
    """The account selector: remember the account chosen and show the page again with it."""
    if not choose_account(current_user, request.form.get("account", "")):
        abort(404)
    db.session.commit()
    page = request.form.get("page")
    return redirect(url_for(page if page in SELECTOR_PAGES else "cabinet.index"), 303)


# Years the payments filter takes (a date cannot be outside them).
MIN_YEAR, MAX_YEAR = 1, 9998

# The main page's «Произведенные платежи» lists this many.
LATEST_PAYMENTS = 3


@bp.get("/")
def index():
    """The cabinet's main page: the selected account's payments, debt, meters waiting for
    readings and latest bill."""
    choice = chosen_accounts()
    account = choice.selected
    if account is None:
        return render_template("cabinet/index.html", choice=choice)
    today = local_today()
    (debt,) = debts([account])
    cards = meter_cards(account.id, today, accepted=False)
    taking = [card for card in cards if card.accepts_readings]
    closed = [card.window for card in taking if not card.window.is_open]
    waiting = [card for card in cards if card.waiting]
    return render_template(
        "cabinet/index.html",
        choice=choice,
        payments=latest_payments(account.id, LATEST_PAYMENTS),
        debt=debt,
        waiting=waiting,
        upcoming=min(closed, key=lambda window: window.first_day, default=None),
        # Meters that take readings now, all of them sent: this month's are in.
        sent_month=(
            reading_month(today)
            if not waiting and any(card.window.is_open for card in taking)
            else None
        ),
        due_on=debt.month and due_date(debt.month, current_app.config["PAYMENT_DUE_DAY"]),
        received=last_received(),
    )


def _month_arg(months: list[date]) -> date:
    """The month ``?month=YYYY-MM`` names among ``months``, the latest without one; 404 for a
    month without charges."""
    wanted = request.args.get("month")
    if not wanted:
        return months[0]
    for month in months:
        if month_param(month) == wanted:
            return month
    abort(404)


@bp.get("/charges")
def charges():
    """Расчеты: a month's charges per service (the fragment the month selector swaps), and
    the place the consumption charts load into."""
    choice = chosen_accounts()
    account = choice.selected
    months = charge_months(account.id) if account else []
    context = {"choice": choice, "months": months}
    if months:
        context["statement"] = statement(account.id, _month_arg(months))
    return render("cabinet/charges.html", "cabinet/_partials/charges_table.html", **context)


@bp.get("/charges/consumption", endpoint="consumption")
def consumption_charts():
    """«Потребление по месяцам»: the charts of the MONTHS_SHOWN months up to the latest bill.
    htmx loads them into Расчеты after its table; without JavaScript they are a page."""
    choice = chosen_accounts()
    latest = choice.selected and latest_charge_month(choice.selected.id)
    return render(
        "cabinet/consumption.html",
        "cabinet/_partials/charts.html",
        choice=choice,
        latest=latest,
        charts=charts(consumption(choice.selected.id, latest)) if latest else [],
        chart_svg=svg,
        table_rows=table_rows,
    )


def _receipt_context() -> dict:
    """What the receipt's page and its PDF show: the account chosen, the months with charges
    and, when there are any, the receipt of ``?month=`` (the latest without one)."""
    choice = chosen_accounts()
    account = choice.selected
    months = charge_months(account.id, every=True) if account else []
    context = {"choice": choice, "months": months}
    if months:
        context["receipt"] = receipt(
            account.id,
            _month_arg(months),
            current_app.config["PAYEE"],
            current_app.config["PAYMENT_DUE_DAY"],
        )
    return context


def _qr_title(document: Receipt) -> str:
    """What the payment QR code says to a screen reader, and in place of the image."""
    title = f"QR-код для оплаты квитанции за {month_ru(document.month)}"
    if document.owed:
        title += f" на сумму {money_ru(document.owed)}"
    return title


@bp.get("/receipt", endpoint="receipt")
def receipt_page():
    """«Печать квитанции»: a month's receipt with its payment QR code, to read, print (the
    print stylesheet leaves the receipt alone on an A4 sheet) or download as a PDF. The month
    selector swaps the receipt by htmx."""
    context = _receipt_context()
    document = context.get("receipt")
    if document:
        context["qr"] = qr_svg(document.payment_code(), _qr_title(document))
    return render("cabinet/receipt.html", "cabinet/_partials/receipt.html", **context)


@bp.get("/receipt.pdf")
@limiter.limit(
    lambda: current_app.config["RECEIPT_PDF_LIMIT_PER_USER"],
    key_func=lambda: f"receipt-pdf:{current_user.id}",
    exempt_when=lambda: not current_user.is_authenticated,
)
def receipt_pdf():
    """The receipt as a PDF: the receipt of the page, as printed, with the QR code as a PNG."""
    context = _receipt_context()
    document = context.get("receipt")
    if document is None:
        abort(404)
    context["qr"] = png_img(document.payment_code(), _qr_title(document))
    # WeasyPrint loads in a second; the commands of `flask`, which never draw a PDF, go without.
    from ..pdf import pdf_of

    html = render_template("cabinet/receipt_document.html", pdf=True, **context)
    response = make_response(pdf_of(html))
    response.content_type = "application/pdf"
    name = f"kvitanciya-{document.payer.number}-{document.month:%Y-%m}.pdf"
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


@bp.get("/debt")
def debt():
    """Задолженность of every linked account and in total."""
    choice = chosen_accounts()
    rows = debts(choice.accounts)
    return render_template(
        "cabinet/debt.html",
        choice=choice,
        debts=rows,
        # An advance on one account pays none of another's debt.
        total=sum((row.total for row in rows if row.total > 0), start=0),
        received=last_received(),
    )


@bp.get("/payments")
def payments():
    """Произведенные платежи: the history, filtered by account and year, a page at a time."""
    choice = chosen_accounts()
    shown = [choice.selected] if request.args.get("account") else choice.accounts
    year = request.args.get("year", type=int)
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        abort(404)
    history = payment_history(
        PaymentFilter([account.id for account in shown], year),
        request.args.get("page", 1, type=int),
        current_app.config["PAYMENTS_PER_PAGE"],
    )
    return render(
        "cabinet/payments.html",
        "cabinet/_partials/payments_table.html",
        choice=choice,
        history=history,
        account=request.args.get("account") and choice.selected,
        year=year,
        numbers={account.id: account.number for account in choice.accounts},
    )


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
