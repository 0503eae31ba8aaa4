"""The payment QR code of a receipt, ГОСТ Р 56042-2014: the string banking apps read (built and
parsed here) and its image (drawn by segno).

The string is a header, ``ST0001`` and an encoding flag (``2``: UTF-8, the only one the portal
writes), then ``Key=Value`` fields after the separator ``|``: first the five mandatory ones in
the standard's order, then the others in the order given. A value may not hold the separator
or control characters, and may not exceed the standard's length for its field (the standard
sets none for the "other" fields of its table 3, such as PayerAddress). Billing systems spell
the keys differently, so parsing ignores their case and spells the fields this module knows as
the standard does.
"""

import base64
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import segno
from markupsafe import Markup

FORMAT = "ST0001"
UTF8 = "2"
HEADER = FORMAT + UTF8
SEPARATOR = "|"
# Encoding flags of the standard: 1 WIN1251, 2 UTF-8, 3 KOI8-R. A parsed string is text
# already, whatever bytes it came as.
ENCODINGS = ("1", "2", "3")


class Field(NamedTuple):
    """A field of the standard: its greatest length (None: the standard sets none) and the
    pattern of a valid value (None: any text)."""

    max_length: int | None
    pattern: re.Pattern | None = None


def _digits(count: str) -> re.Pattern:
    return re.compile(rf"[0-9]{{{count}}}")


MANDATORY = {
    "Name": Field(160),
    "PersonalAcc": Field(20, _digits("20")),
    "BankName": Field(45),
    "BIC": Field(9, _digits("9")),
    "CorrespAcc": Field(20, _digits("20")),
}
FIELDS = {
    **MANDATORY,
    # Table 2: the additional fields, with the lengths of the standard.
    "Sum": Field(18, _digits("1,18")),
    "Purpose": Field(210),
    "PayeeINN": Field(12, re.compile(r"[0-9]{10}|[0-9]{12}")),
    "PayerINN": Field(12, re.compile(r"[0-9]{10}|[0-9]{12}")),
    "KPP": Field(9, re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")),
    # Table 3: the other fields a housing and utilities bill uses (no lengths in the standard).
    "LastName": Field(None),
    "FirstName": Field(None),
    "MiddleName": Field(None),
    "PayerAddress": Field(None),
    "PersAcc": Field(None),
    "PaymPeriod": Field(None, re.compile(r"(0[1-9]|1[0-2])\.[0-9]{4}")),
    "Category": Field(None),
    "TechCode": Field(None, _digits("2")),
}
# What a value of a field must look like, as an error message says it.
SHAPES = {
    "PersonalAcc": "20 цифр",
    "BIC": "9 цифр",
    "CorrespAcc": "20 цифр",
    "Sum": "сумму в копейках: от 1 до 18 цифр",
    "PayeeINN": "10 или 12 цифр",
    "PayerINN": "10 или 12 цифр",
    "KPP": "9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры",
    "PaymPeriod": "месяц и год в виде ММ.ГГГГ",
    "TechCode": "2 цифры",
}
_CANONICAL = {name.lower(): name for name in FIELDS}
# Characters no value may hold: control characters (line breaks among them), lone surrogates
# (not encodable in UTF-8) and the line and paragraph separators.
_FORBIDDEN_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")


def _forbidden(character: str) -> bool:
    return character == SEPARATOR or unicodedata.category(character) in _FORBIDDEN_CATEGORIES


class PaymentQRError(ValueError):
    """A value the standard does not allow, or a string that is not a payment code; the
    message says which and why, in Russian (the office sees it when requisites are wrong)."""


def check(name: str, value: str) -> str:
    """``value`` if the field ``name`` of the standard can hold it, else PaymentQRError."""
    field = FIELDS.get(name)
    if field is None:
        raise PaymentQRError(f"Поле {name} не поддерживается порталом")
    if not isinstance(value, str):
        raise PaymentQRError(f"Поле {name} должно быть строкой, а не {value!r}")
    if not value.strip():
        raise PaymentQRError(f"Поле {name} пустое")
    if SEPARATOR in value:
        raise PaymentQRError(f"Поле {name} содержит знак «{SEPARATOR}», разделитель полей")
    if any(_forbidden(character) for character in value):
        raise PaymentQRError(f"Поле {name} содержит перевод строки или управляющий символ")
    if field.max_length is not None and len(value) > field.max_length:
        raise PaymentQRError(
            f"Поле {name} длиннее {field.max_length} знаков, допустимых ГОСТ Р 56042-2014: "
            f"{len(value)}"
        )
    if field.pattern is not None and not field.pattern.fullmatch(value):
        raise PaymentQRError(f"Поле {name} должно содержать {SHAPES[name]}, а не «{value}»")
    return value


def build(fields: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """The payment string of these fields: the mandatory ones in the standard's order, then the
    others as given. PaymentQRError for a missing mandatory field, a field given twice, an
    unknown one, or a value the field cannot hold."""
    pairs = list(fields.items() if isinstance(fields, Mapping) else fields)
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise PaymentQRError(f"Поле {name} указано дважды")
    given = dict(pairs)
    missing = [name for name in MANDATORY if name not in given]
    if missing:
        raise PaymentQRError("Не хватает обязательных полей: " + ", ".join(missing))
    ordered = [(name, given[name]) for name in MANDATORY] + [
        (name, value) for name, value in pairs if name not in MANDATORY
    ]
    return SEPARATOR.join([HEADER] + [f"{name}={check(name, value)}" for name, value in ordered])


def parse(text: str) -> dict[str, str]:
    """The fields of a payment string; the names of FIELDS spelled as the standard does whatever
    the case they came in, others kept as they came. The separator is the character after the
    header, as the standard defines it. PaymentQRError for a string without the header or
    fields, a separator that is a letter, digit or «=», a field without «=», a field given
    twice, or a missing mandatory field."""
    if len(text) < len(HEADER) or not (text.startswith(FORMAT) and text[len(FORMAT)] in ENCODINGS):
        raise PaymentQRError("Это не платежный код ГОСТ Р 56042-2014: нет заголовка ST0001")
    if len(text) == len(HEADER):
        raise PaymentQRError("В платежном коде нет полей")
    separator = text[len(HEADER)]
    if separator.isalnum() or separator == "=":
        raise PaymentQRError(
            f"В платежном коде после заголовка нет разделителя полей, а стоит «{separator}»"
        )
    fields: dict[str, str] = {}
    for part in text[len(HEADER) + 1 :].split(separator):
        if not part:  # some billing systems end the string with a separator
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise PaymentQRError(f"В платежном коде поле без значения: «{part}»")
        name = _CANONICAL.get(name.lower(), name)
        if name in fields:
            raise PaymentQRError(f"В платежном коде поле {name} указано дважды")
        fields[name] = value
    missing = [name for name in MANDATORY if name not in fields]
    if missing:
        raise PaymentQRError("В платежном коде нет обязательных полей: " + ", ".join(missing))
    return fields


def fit(value: str, limit: int) -> str:
    """Free text made fit for a field of at most ``limit`` (2 or more) characters: the
    separator, line breaks and control characters become spaces, runs of spaces one, and a
    longer text is cut, at a word unless that loses half of it, ending in «…». Empty when
    the text has nothing else: the caller then leaves the field out."""
    if limit < 2:
        raise ValueError(f"limit must be 2 or more, not {limit}")
    text = " ".join("".join(" " if _forbidden(c) else c for c in value).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        at_word = cut[: cut.rindex(" ")].rstrip(" ,.;:-")
        if len(at_word) >= len(cut) // 2:
            cut = at_word
    return cut.rstrip() + "…"


def svg(text: str, title: str) -> Markup:
    """The code as inline SVG for a page, scaled by its CSS; an image that ``title`` names for
    screen readers. Error correction M, as banking apps expect of a printed code."""
    code = segno.make(text, encoding="utf-8", error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        nl=False,
        omitsize=True,
        title=title,
        svgclass="payment-qr",
    )
    drawn = out.getvalue().decode().replace("<svg ", '<svg role="img" ', 1)
    return Markup(drawn)  # noqa: S704 - segno escapes the title it writes


def png_img(text: str, title: str) -> Markup:
    """The code as an <img> of a PNG in a data: URL, for the PDF; ``title`` is its text. The
    stylesheet sizes it; 4 pixels per module make over 200 dpi at 45 mm, whereas one pixel per
    module would be enlarged, and viewers that smooth an enlarged image (poppler does, whatever
    the PDF asks) blur it beyond what a scanner reads off a 150 dpi rendering."""
    data = base64.b64encode(png(text, scale=4)).decode()
    return Markup('<img class="payment-qr" src="data:image/png;base64,{}" alt="{}">').format(
        data, title
    )


def png(text: str, scale: int = 10) -> bytes:
    """The code as a PNG for the PDF, ``scale`` pixels per module."""
    code = segno.make(text, encoding="utf-8", error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale)
    return out.getvalue()
