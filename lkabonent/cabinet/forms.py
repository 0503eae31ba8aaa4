"""Forms of the cabinet."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import REQUIRED
from .services import NUMBER_PATTERN, normalize_account_number


class LinkAccountForm(FlaskForm):
    """«Привязать лицевой счет»: the number from the receipt and the owner's surname."""

    number = StringField(
        "Лицевой счет",
        validators=[DataRequired(REQUIRED), Length(max=32, message="Слишком длинный номер.")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "108XXXXNNA"},
    )
    surname = StringField(
        "Фамилия владельца",
        validators=[DataRequired(REQUIRED), Length(max=100, message="Слишком длинная фамилия.")],
        render_kw={"autocomplete": "family-name", "placeholder": "Иванов"},
    )

    def validate_number(self, field):
        """Accept the number with spaces or dashes; keep it normalised."""
        field.data = normalize_account_number(field.data)
        if not NUMBER_PATTERN.fullmatch(field.data):
            raise ValidationError(
                "Номер лицевого счета — 10 цифр и латинских букв, как в квитанции."
            )

    def validate_surname(self, field):
        """Letters, spaces, hyphens and apostrophes only."""
        if any(not (ch.isalpha() or ch in " -'’") for ch in field.data.strip()):
            raise ValidationError("Фамилия может содержать только буквы, пробел и дефис.")
