"""Commands for the office and for developers: `flask billing …`, `flask demo …`,
`flask mail …`, `flask maintenance …`."""

import os
import sys

import click
from flask.cli import AppGroup

from . import demo
from .billing.importer import Outcome, import_files
from .billing.readings import NotWritten, UnknownBatch, export_readings
from .cabinet.finance import month_from_text
from .clock import utcnow
from .extensions import db
from .mail import send_pending
from .maintenance import purge
from .models import BillingImport
from .text import plural_ru

billing_cli = AppGroup("billing", help="Обмен данными с системой учета.")
demo_cli = AppGroup("demo", help="Демонстрационные данные.")
mail_cli = AppGroup("mail", help="Исходящая почта.")
maintenance_cli = AppGroup("maintenance", help="Обслуживание базы данных.")


@billing_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Записать верные строки, а неверные с причинами отложить в файл "
    "<имя>.rejected.csv рядом с исходным.",
)
def billing_import(paths, skip_invalid):
    """Загрузить файлы системы учета (вид файла определяется по строке заголовка)."""
    bar = ProgressBar() if sys.stderr.isatty() else None
    outcomes = import_files(list(paths), skip_invalid=skip_invalid, progress=bar)
    for outcome in outcomes:
        report_outcome(outcome)
    if any(outcome.result == BillingImport.REJECTED for outcome in outcomes):
        raise SystemExit(1)


class ProgressBar:
    """A progress bar per file on the terminal, by bytes read."""

    def __init__(self):
        self.bar = self.path = None

    def __call__(self, path: str, position: int, size: int) -> None:
        if path != self.path:
            self.close()
            self.bar = click.progressbar(length=size, label=os.path.basename(path), file=sys.stderr)
            self.bar.__enter__()
            self.path = path
        self.bar.update(position - self.bar.pos)
        if position >= size:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        self.bar = self.path = None


def report_outcome(outcome: Outcome) -> None:
    """The file's errors (the first ones, then how many more) and its summary line."""
    for line, column, reason in outcome.errors:
        where = f"{outcome.path}:{line}: {column}" if line else outcome.path  # 0: no line at all
        click.echo(f"{where}: {reason}", err=True)
    more = outcome.error_count - len(outcome.errors)
    if more:
        click.echo(f"… и еще {more} {plural_ru(more, 'ошибка', 'ошибки', 'ошибок')}", err=True)
    label = outcome.kind.label if outcome.kind else "вид не распознан"
    counts = (
        f"добавлено {outcome.inserted}, обновлено {outcome.updated}, "
        f"без изменений {outcome.unchanged}, отклонено {outcome.rejected}"
    )
    if outcome.result == BillingImport.REJECTED:
        click.echo(f"{outcome.path} ({label}): файл отклонен, ничего не записано — {counts}.")
        return
    rate = outcome.rows / outcome.seconds if outcome.seconds else 0
    click.echo(
        f"{outcome.path} ({label}): {counts}; {outcome.rows} "
        f"{plural_ru(outcome.rows, 'строка', 'строки', 'строк')} за {outcome.seconds:.1f} с, "
        f"{rate:.0f} строк/с."
    )
    if outcome.rejects_path:
        click.echo(f"Отклоненные строки с причинами записаны в {outcome.rejects_path}.")


@billing_cli.command("export-readings")
@click.option("--out", "path", required=True, type=click.Path(), help="Файл выгрузки.")
@click.option(
    "--batch", "batch_id", type=int, help="Номер прошлой выгрузки, чтобы записать ее снова."
)
def billing_export_readings(path, batch_id):
    """Выгрузить показания, поданные в портале, для системы учета."""
    if os.path.isdir(path):
        click.echo(f"{path} — это папка; укажите в --out имя файла.", err=True)
        raise SystemExit(1)
    try:
        batch_id, written = export_readings(path, batch_id)
    except UnknownBatch:
        db.session.rollback()
        click.echo(f"Выгрузка № {batch_id} не найдена.", err=True)
        raise SystemExit(1) from None
    except NotWritten as error:
        click.echo(
            f"Выгрузка № {error.batch_id} сохранена, но файл {path} не записан: {error.reason}. "
            f"Запишите ее снова: flask billing export-readings --out FILE --batch {error.batch_id}",
            err=True,
        )
        raise SystemExit(1) from None
    if batch_id is None:
        click.echo(f"Новых показаний для выгрузки нет; в {path} записан только заголовок.")
    else:
        click.echo(
            f"Выгрузка № {batch_id}: {written} "
            f"{plural_ru(written, 'показание', 'показания', 'показаний')} записано в {path}."
        )


@demo_cli.command("seed")
@click.option(
    "--accounts",
    type=click.IntRange(len(demo.KNOWN_ACCOUNTS), demo.MAX_ACCOUNTS),
    default=demo.DEFAULT_ACCOUNTS,
    show_default=True,
    help="Сколько лицевых счетов создать.",
)
@click.option(
    "--months",
    type=click.IntRange(1, demo.MAX_MONTHS),
    default=demo.DEFAULT_MONTHS,
    show_default=True,
    help="За сколько месяцев создать начисления, платежи и показания.",
)
@click.option(
    "--seed",
    "seed_value",
    type=click.IntRange(min=0),
    default=demo.DEFAULT_SEED,
    show_default=True,
    help="Начальное число генератора: с тем же числом и месяцем данные те же.",
)
@click.option(
    "--end-month",
    metavar="ГГГГ-ММ",
    help="Последний месяц данных; по умолчанию текущий (по времени расчетного центра).",
)
def demo_seed(accounts, months, seed_value, end_month):
    """Заполнить пустую базу демонстрационными лицевыми счетами с приборами учета,
    показаниями, начислениями и платежами."""
    try:
        end_month = month_from_text(end_month) if end_month else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--end-month") from None
    options = {"accounts": accounts, "months": months, "end_month": end_month}
    if sys.stderr.isatty():
        with click.progressbar(length=accounts, label="Лицевые счета", file=sys.stderr) as bar:
            report = demo.seed(seed_value, progress=bar.update, **options)
    else:
        report = demo.seed(seed_value, **options)
    if report is None:
        click.echo("В базе уже есть лицевые счета; демонстрационные данные не добавлены.")
        return
    rows = {name: f"{count:,}".replace(",", " ") for name, count in report.rows.items()}
    click.echo(f"Добавлено демонстрационных лицевых счетов: {report.rows['accounts']}.")
    click.echo(
        f"Записано строк: контакты {rows['contacts']}, услуги {rows['services']}, "
        f"приборы учета {rows['meters']}, показания {rows['readings']}, "
        f"начисления {rows['charges']}, платежи {rows['payments']}."
    )
    click.echo(
        f"Месяцы: {report.first_month:%m.%Y}–{report.end_month:%m.%Y}; "
        f"заняло {report.seconds:.1f} с."
    )


@mail_cli.command("send-pending")
def mail_send_pending():
    """Отправить письма, которые ждут отправки в очереди."""
    sent, failed = send_pending()
    click.echo(f"Отправлено писем: {sent}; не удалось отправить: {failed}.")
    if failed:
        raise SystemExit(1)


@maintenance_cli.command("purge")
def maintenance_purge():
    """Удалить то, что хранится ограниченный срок и срок истек: завершенные сеансы, высланные
    пароли, отправленные письма, неудачные попытки привязки и входа."""
    deleted = purge(utcnow())
    counts = ", ".join(f"{label} — {count}" for label, count in deleted.items())
    click.echo(f"Удалено: {counts}.")


def register_commands(app) -> None:
    """Add the command groups to `flask`."""
    app.cli.add_command(billing_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(maintenance_cli)
