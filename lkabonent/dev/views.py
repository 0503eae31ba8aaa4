"""The outbox as a page, so that `make run` needs no mail server."""

from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..mail import unseal
from ..models import OutgoingMail
from . import bp


@bp.get("/mail")
def mail():
    """The latest mails, newest first, with their text."""
    mails = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(50))
    return render_template(
        "dev/mail.html",
        mails=[(outgoing, unseal(outgoing.body_text)) for outgoing in mails],
    )
