"""Приборы учета: the account's meters, a meter's reading history, «Передать показания»."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..billing.services import local_today
from ..cabinet.finance import MONTHS_SHOWN, add_months, month_from_text
from ..cabinet.views import chosen_accounts
from ..extensions import db
from ..htmx import is_htmx, render, wants_fragment
from . import bp
from .services import (
    Outcome,
    account_meter,
    cards_of,
    confirmation,
    history_rows,
    meter_cards,
    meter_page,
    reading_month,
    submit_readings,
)

bp.add_app_template_global(history_rows)

STORED = "Показания приняты. Пока они не переданы в расчет, их можно исправить, отправив снова."
REPLACED = "Показания исправлены: в расчет пойдут новые значения."


@bp.get("/")
def index():
    """Приборы учета of the selected account, with «Подать показания» for each open meter."""
    choice = chosen_accounts()
    today = local_today()
    cards = meter_cards(choice.selected.id, today) if choice.selected else []
    return render_template("meters/index.html", choice=choice, cards=cards, today=today)


def _meter_or_404(meter_id: int):
    """The meter if it belongs to one of the user's accounts; 404 as for a missing one."""
    choice = chosen_accounts()
    meter = account_meter([account.id for account in choice.accounts], meter_id)
    if meter is None:
        abort(404)
    return choice, meter


def _until_arg(current: date) -> date:
    """The latest month of the history that ``?until=YYYY-MM`` asks for, ``current`` without
    one; 404 for a month after ``current``, or so early that the months before it have no
    dates."""
    wanted = request.args.get("until")
    if wanted is None:
        return current
    try:
        until = month_from_text(wanted)
        add_months(until, 1 - MONTHS_SHOWN)
    except ValueError:
        abort(404)
    if until > current:
        abort(404)
    return until


@bp.get("/<int:meter_id>")
def meter(meter_id):
    """A meter: its card with the form, and its readings by month with their states, two
    years at a time (``?until=``, the latest month shown); htmx swaps the history alone."""
    choice, found = _meter_or_404(meter_id)
    today = local_today()
    current = reading_month(today)
    history, card = meter_page(found, today, _until_arg(current), card=not wants_fragment())
    # The two years after those asked for, up to the current month: the latest ones last.
    later = (
        None
        if history.latest == current
        else min(add_months(history.latest, MONTHS_SHOWN), current)
    )
    return render(
        "meters/meter.html",
        "meters/_partials/history.html",
        choice=choice,
        meter=found,
        card=card,
        history=history,
        current=current,
        later=later,
    )


@bp.post("/<int:meter_id>/readings")
def submit(meter_id):
    """«Передать показания»: store them, ask to confirm, or say why not. htmx gets the meter's
    card back; a browser without JavaScript, the meter's page or a redirect."""
    choice, found = _meter_or_404(meter_id)
    today = local_today()
    typed = {zone: request.form.get(f"zone{zone}") for zone in range(1, found.zones + 1)}
    submission = submit_readings(
        found,
        typed,
        current_user.id,
        today,
        rollover_confirmed=request.form.get("rollover") == confirmation(typed),
        high_confirmed=request.form.get("confirmed") == confirmation(typed),
    )
    stored = submission.outcome is Outcome.STORED
    if stored:
        db.session.commit()
        notice = REPLACED if submission.replaced else STORED
    else:
        db.session.rollback()
        notice = None
    back = request.form.get("back")
    if stored and not is_htmx():
        flash(notice, "success")
        if back == "meter":
            target = url_for(".meter", meter_id=meter_id)
        else:
            target = url_for(".index", account=found.account.number)
        return redirect(f"{target}#meter-{meter_id}", 303)
    # The meter's page gets its history too (htmx swaps it out of band); the list has none.
    if not wants_fragment() or back == "meter":
        history, card = meter_page(found, today)
    else:
        history, (card,) = None, cards_of([found], today)
    return render(
        "meters/meter.html",
        "meters/_partials/meter_card.html",
        status=200 if stored else 422,
        choice=choice,
        card=card,
        meter=found,
        history=history,
        submission=None if stored else submission,
        notice=notice,
        back=back,
    )
