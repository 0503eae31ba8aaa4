"""Forms of registration, recovery, login and password change."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import REQUIRED
from ..mail import normalize_email
from ..passwords import MAX_LENGTH


class EmailField(StringField):
    """The «Логин» field: an email address, normalised on validation."""

    def pre_validate(self, form):
        if self.data and ("\r" in self.data or "\n" in self.data):
            raise ValidationError("Адрес не может содержать перевод строки.")

    def post_validate(self, form, validation_stopped):
        if not validation_stopped and not self.errors:
            try:
                self.data = normalize_email(self.data)
            except ValueError as error:
                self.errors.append(str(error))


def _login_field() -> EmailField:
    return EmailField(
        "Логин",
        validators=[DataRequired(REQUIRED), Length(max=254, message="Слишком длинный адрес.")],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )


def strip_whitespace(value: str | None) -> str | None:
    """Drop the spaces and line breaks around a typed or pasted password.

    Mail programs and clipboards often copy a space or a line break with a password; new
    passwords may neither start nor end with whitespace (passwords.password_problem), so such
    whitespace is never part of a password and is not counted as a wrong try."""
    return value.strip() if value else value


def _password_field(label: str, autocomplete: str, filters=()) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(REQUIRED),
            Length(max=MAX_LENGTH, message="Слишком длинный пароль."),
        ],
        filters=filters,
        render_kw={"autocomplete": autocomplete},
    )


def _emailed_password_field() -> PasswordField:
    """The password from the mail. Mail programs often copy a space or a line break with it;
    an emailed password has none, so they are dropped rather than counted as a wrong try.
    "one-time-code" keeps browsers from offering a generated password instead of the mailed one.
    """
    return _password_field("Пароль", "one-time-code", filters=[strip_whitespace])


class RequestPasswordForm(FlaskForm):
    """Step 1 of registration and recovery: «Логин», then «Получить пароль»."""

    email = _login_field()


class RegisterForm(FlaskForm):
    """Step 2 of registration: the emailed password and the consent."""

    email = _login_field()
    password = _emailed_password_field()
    consent = BooleanField(
        "Даю согласие на обработку моих персональных данных",
        validators=[
            DataRequired("Без согласия на обработку персональных данных зарегистрироваться нельзя.")
        ],
    )


class RecoverForm(FlaskForm):
    """Step 2 of «Забыли пароль?»: the emailed password."""

    email = _login_field()
    password = _emailed_password_field()


class LoginForm(FlaskForm):
    """«Войти»: any login and password; the answer to a failure never says which was wrong."""

    email = StringField(
        "Логин",
        validators=[DataRequired(REQUIRED), Length(max=254, message="Слишком длинный адрес.")],
        render_kw={"autocomplete": "username", "inputmode": "email", "spellcheck": "false"},
    )
    password = _password_field("Пароль", "current-password", filters=[strip_whitespace])


class ChangePasswordForm(FlaskForm):
    """«Сменить пароль»: the current password and the new one twice."""

    current_password = _password_field(
        "Текущий пароль", "current-password", filters=[strip_whitespace]
    )
    new_password = _password_field("Новый пароль", "new-password")
    new_password_again = PasswordField(
        "Новый пароль еще раз",
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_password", message="Новые пароли не совпадают."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
