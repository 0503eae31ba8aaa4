"""The outbox: mails are written in the transaction they belong to and sent after its commit.

A mail that cannot be sent stays queued, and ``flask mail send-pending`` retries it. Bodies are
stored encrypted (Fernet, with a key derived from SECRET_KEY) because they can carry an emailed
password, whose plain value must never rest in the database.
"""

import base64
import smtplib
import ssl
import sys
from datetime import timedelta
from email.header import Header

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, render_template, request, url_for
from flask_mail import Connection, Message
from sqlalchemy import or_, select, update

from .clock import utcnow
from .extensions import db
from .models import OutgoingMail


def normalize_email(raw: str) -> str:
    """Return the canonical form of a login; raise ValueError with a Russian reason if invalid."""
    try:
        # test_environment admits *.test addresses, which the demo data uses; they cannot
        # receive mail, so in production they simply never finish registering.
        # allow_smtputf8=False: a Unicode domain is fine (it travels as punycode), a non-ASCII
        # part before the @ needs SMTPUTF8, which mail servers cannot be relied on to carry.
        info = validate_email(
            raw.strip(), check_deliverability=False, test_environment=True, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        before_at = raw.strip().rpartition("@")[0]
        if before_at and not before_at.isascii():
            raise ValueError(
                "До знака @ в адресе могут быть только латинские буквы, цифры и знаки."
            ) from error
        raise ValueError(
            "Введите адрес электронной почты полностью, например user@example.ru."
        ) from error
    return info.normalized.lower()


# A claimed mail is left alone by other senders for this long.
CLAIM_TIME = timedelta(minutes=5)


def _fernet() -> Fernet:
    """The cipher of the outbox, derived from the application's secret key."""
    cipher = current_app.extensions.get("lkabonent.outbox")
    if cipher is None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"lkabonent outbox"
        ).derive(current_app.config["SECRET_KEY"].encode())
        cipher = Fernet(base64.urlsafe_b64encode(key))
        current_app.extensions["lkabonent.outbox"] = cipher
    return cipher


def seal(text: str) -> str:
    """Encrypt a mail body for the outbox."""
    return _fernet().encrypt(text.encode()).decode()


def unseal(token: str) -> str:
    """Decrypt a mail body from the outbox."""
    return _fernet().decrypt(token.encode()).decode()


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, on PUBLIC_URL: never on the Host header a client sent,
    which would let anyone have our mails point at a site of theirs."""
    base = current_app.config["PUBLIC_URL"] or request.host_url
    return base.rstrip("/") + url_for(endpoint, **values)


def queue_mail(recipient: str, subject: str, template: str, **context) -> OutgoingMail:
    """Render ``email/<template>.txt`` and ``.html`` into an outbox row of the current session."""
    context.setdefault("organization", current_app.config["ORGANIZATION_NAME"])
    outgoing = OutgoingMail(
        recipient=recipient,
        subject=subject,
        body_text=seal(render_template(f"email/{template}.txt", **context)),
        body_html=seal(render_template(f"email/{template}.html", **context)),
    )
    db.session.add(outgoing)
    g.setdefault("queued_mail", []).append(outgoing)
    return outgoing


def deliver_queued() -> bool:
    """After the commit: send what this request or command queued; True when all went out."""
    queued = g.pop("queued_mail", [])
    return all([deliver(outgoing.id) for outgoing in queued])


def _claim(mail_id: int) -> bool:
    """Take a queued mail for sending, unless it is sent or another sender holds it."""
    now = utcnow()
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
        )
        .values(claimed_until=now + CLAIM_TIME, attempts=OutgoingMail.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def encode_subject(text: str) -> str:
    """The subject as RFC 2047 encoded words, folded before Flask-Mail can fold it.

    Python before 3.13 (and Flask-Mail through it) drops the space at which it folds a long
    Cyrillic subject, so «регистрации в» arrived as «регистрациив». The legacy email.header
    encoder keeps every space inside its encoded words.
    """
    return Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n")


class TimedConnection(Connection):
    """Flask-Mail's SMTP connection, made safe for a queue that must not send twice.

    - a timeout (Flask-Mail has none): a server that accepts and then stalls leaves the mail
      queued instead of holding the request forever;
    - TLS with the server's certificate verified (Flask-Mail passes no SSL context);
    - a server that hangs up on QUIT does not turn a delivered mail into a failed one.
    """

    def configure_host(self) -> smtplib.SMTP:
        settings, timeout = self.mail, current_app.config["MAIL_TIMEOUT"]
        context = ssl.create_default_context()
        if settings.use_ssl:
            host = smtplib.SMTP_SSL(
                settings.server, settings.port, timeout=timeout, context=context
            )
        else:
            host = smtplib.SMTP(settings.server, settings.port, timeout=timeout)
        try:
            if settings.use_tls:
                host.starttls(context=context)
            if settings.username and settings.password:
                host.login(settings.username, settings.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()


def _transmit(outgoing: OutgoingMail) -> None:
    """Hand one mail to the SMTP server, or print it where development has none."""
    text = unseal(outgoing.body_text)
    if not current_app.config["MAIL_SERVER"]:
        print(
            f"--- Письмо для {outgoing.recipient}: {outgoing.subject}\n{text}\n---",
            file=sys.stderr,
            flush=True,
        )
        return
    message = Message(
        subject=encode_subject(outgoing.subject),
        recipients=[outgoing.recipient],
        body=text,
        html=unseal(outgoing.body_html),
    )
    with TimedConnection(current_app.extensions["mail"]) as connection:
        connection.send(message)


def deliver(mail_id: int) -> bool:
    """Send one queued mail now; True when it went out (or was already sent)."""
    if not _claim(mail_id):
        return db.session.get(OutgoingMail, mail_id).sent_at is not None
    outgoing = db.session.get(OutgoingMail, mail_id)
    try:
        _transmit(outgoing)
    # UnicodeError: an address SMTP cannot carry without SMTPUTF8 (a non-ASCII local part).
    except (OSError, UnicodeError, InvalidToken) as error:
        current_app.logger.warning("mail %s to the outbox queue: %r", mail_id, error)
        outgoing.last_error = repr(error)[:500]
        outgoing.claimed_until = None
        db.session.commit()
        return False
    outgoing.sent_at = utcnow()
    outgoing.last_error = None
    db.session.commit()
    return True


def send_pending() -> tuple[int, int]:
    """Try every queued mail once, oldest first; return how many were sent and how many failed."""
    pending = db.session.scalars(
        select(OutgoingMail.id).where(OutgoingMail.sent_at.is_(None)).order_by(OutgoingMail.id)
    ).all()
    sent = sum(deliver(mail_id) for mail_id in pending)
    return sent, len(pending) - sent
