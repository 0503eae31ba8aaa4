"""What the forms of every blueprint share."""

REQUIRED = "Заполните это поле."
