"""Commands for the office and for developers: `flask demo …`, `flask mail …`."""

import click
from flask.cli import AppGroup

from . import demo
from .mail import send_pending

demo_cli = AppGroup("demo", help="Демонстрационные данные.")
mail_cli = AppGroup("mail", help="Исходящая почта.")


@demo_cli.command("seed")
def demo_seed():
    """Заполнить пустую базу демонстрационными лицевыми счетами."""
    added = demo.seed()
    if added:
        click.echo(f"Добавлено демонстрационных лицевых счетов: {added}.")
    else:
        click.echo("В базе уже есть лицевые счета; демонстрационные данные не добавлены.")


@mail_cli.command("send-pending")
def mail_send_pending():
    """Отправить письма, которые ждут отправки в очереди."""
    sent, failed = send_pending()
    click.echo(f"Отправлено писем: {sent}; не удалось отправить: {failed}.")
    if failed:
        raise SystemExit(1)


def register_commands(app) -> None:
    """Add the command groups to `flask`."""
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
