"""The payment string of ГОСТ Р 56042-2014: built, parsed, refused, fitted, and read back from
its image by a real decoder (zbarimg)."""

import base64
import re

import pytest
from decoding import read_qr
from hypothesis import given
from hypothesis import strategies as st

from lkabonent.payment_qr import (
    FIELDS,
    MANDATORY,
    SEPARATOR,
    PaymentQRError,
    build,
    check,
    fit,
    parse,
    png,
    png_img,
    svg,
)

PAYEE = {
    "Name": "ГУП РК «Крымский республиканский ЕИРЦ»",
    "PersonalAcc": "40602810000000000000",
    "BankName": "РНКБ БАНК (ПАО)",
    "BIC": "043510607",
    "CorrespAcc": "30101810335100000607",
}
BILL = {
    "PayeeINN": "9102000000",
    "KPP": "910201001",
    "Sum": "123456",
    "Purpose": "Оплата ЖКУ за ноябрь 2026",
    "PersAcc": "1080000001",
    "LastName": "Иванова",
    "PayerAddress": "г. Симферополь, ул. Пушкина, д. 1, кв. 2",
    "PaymPeriod": "11.2026",
    "TechCode": "02",
}


def test_the_mandatory_fields_come_first_in_the_standards_order():
    given_order = {**BILL, "CorrespAcc": PAYEE["CorrespAcc"], **PAYEE}
    text = build(given_order)
    assert text == (
        "ST00012|Name=ГУП РК «Крымский республиканский ЕИРЦ»|PersonalAcc=40602810000000000000"
        "|BankName=РНКБ БАНК (ПАО)|BIC=043510607|CorrespAcc=30101810335100000607"
        "|PayeeINN=9102000000|KPP=910201001|Sum=123456|Purpose=Оплата ЖКУ за ноябрь 2026"
        "|PersAcc=1080000001|LastName=Иванова|PayerAddress=г. Симферополь, ул. Пушкина, д. 1, "
        "кв. 2|PaymPeriod=11.2026|TechCode=02"
    )
    assert parse(text) == {**PAYEE, **BILL}


def test_parsing_ignores_the_case_of_names_and_takes_the_separator_from_the_header():
    text = (
        "ST00011#name=Водоканал|Север#PERSONALACC=40702810000000000001#bankname=Банк"
        "#bic=044525225#correspacc=30101810400000000225#sum=100#payeraddress=ул. Мира, 1#"
    )
    assert parse(text) == {
        "Name": "Водоканал|Север",
        "PersonalAcc": "40702810000000000001",
        "BankName": "Банк",
        "BIC": "044525225",
        "CorrespAcc": "30101810400000000225",
        "Sum": "100",
        "PayerAddress": "ул. Мира, 1",
    }


def test_parsing_keeps_a_value_with_equals_signs_and_a_field_it_does_not_know():
    text = build(PAYEE) + "|Purpose=a=b|Flat=12"
    fields = parse(text)
    assert fields["Purpose"] == "a=b" and fields["Flat"] == "12"


# What each field's valid values look like, for the round trips.
CHARACTERS = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="|")
VALUES = {
    name: st.from_regex(field.pattern, fullmatch=True)
    if field.pattern is not None
    else st.text(CHARACTERS, min_size=1, max_size=field.max_length or 300).filter(str.strip)
    for name, field in FIELDS.items()
}
OPTIONAL = [name for name in FIELDS if name not in MANDATORY]


@st.composite
def field_sets(draw):
    """The mandatory fields and some others, in any order."""
    names = list(MANDATORY) + draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
    names = draw(st.permutations(names))
    return {name: draw(VALUES[name]) for name in names}


@given(field_sets())
def test_any_valid_fields_survive_a_round_trip(fields):
    text = build(fields)
    assert parse(text) == fields
    assert build(parse(text)) == text
    assert text.split(SEPARATOR)[1].startswith("Name=")


@given(field_sets(), st.data())
def test_parsing_any_case_of_the_names_gives_the_same_fields(fields, data):
    pieces = build(fields).split(SEPARATOR)
    recased = [pieces[0]] + [
        data.draw(st.sampled_from([str.lower, str.upper, str.swapcase]))(name) + "=" + value
        for name, _, value in (piece.partition("=") for piece in pieces[1:])
    ]
    assert parse(SEPARATOR.join(recased)) == fields


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Name": "Ж" * 161}, "Поле Name длиннее 160 знаков, допустимых ГОСТ Р 56042-2014: 161"),
        ({"BankName": "Б" * 46}, "Поле BankName длиннее 45 знаков"),
        ({"Purpose": "П" * 211}, "Поле Purpose длиннее 210 знаков"),
        ({"PayerAddress": "ул.\x00Мира"}, "Поле PayerAddress содержит перевод строки или управ"),
        ({"LastName": "Ива\u2028нова"}, "Поле LastName содержит перевод строки или управляющий"),
        ({"LastName": "   "}, "Поле LastName пустое"),
        ({"Sum": 12345}, "Поле Sum должно быть строкой, а не 12345"),
        ({"Name": "Вода|Север"}, "Поле Name содержит знак «|»"),
        ({"PayerAddress": "ул. Мира|1"}, "Поле PayerAddress содержит знак «|»"),
        ({"Purpose": "две\nстроки"}, "Поле Purpose содержит перевод строки"),
        ({"LastName": ""}, "Поле LastName пустое"),
        ({"PersonalAcc": "4060281000000000000"}, "Поле PersonalAcc должно содержать 20 цифр"),
        ({"CorrespAcc": "3010181033510000060A"}, "Поле CorrespAcc должно содержать 20 цифр"),
        ({"BIC": "04351060"}, "Поле BIC должно содержать 9 цифр"),
        ({"Sum": "1234,56"}, "Поле Sum должно содержать сумму в копейках"),
        ({"Sum": "1" * 19}, "Поле Sum длиннее 18 знаков"),
        ({"PayeeINN": "91020000001"}, "Поле PayeeINN должно содержать 10 или 12 цифр"),
        ({"KPP": "91020100"}, "Поле KPP должно содержать 9 знаков"),
        ({"PaymPeriod": "13.2026"}, "Поле PaymPeriod должно содержать месяц и год"),
        ({"PaymPeriod": "2026-11"}, "Поле PaymPeriod должно содержать месяц и год"),
        ({"TechCode": "2"}, "Поле TechCode должно содержать 2 цифры"),
        ({"Bonus": "1"}, "Поле Bonus не поддерживается порталом"),
    ],
)
def test_the_builder_refuses_what_the_standard_does_not_allow(changes, message):
    with pytest.raises(PaymentQRError, match=re.escape(message)):
        build({**PAYEE, **BILL, **changes})


def test_values_of_the_greatest_length_are_taken():
    longest = {"Name": "Ж" * 160, "BankName": "Б" * 45, "Purpose": "П" * 210, "Sum": "9" * 18}
    assert parse(build({**PAYEE, **longest})) == {**PAYEE, **longest}


def test_the_builder_refuses_a_missing_mandatory_field_and_a_field_given_twice():
    without = {name: value for name, value in PAYEE.items() if name not in ("BIC", "Name")}
    with pytest.raises(PaymentQRError, match="Не хватает обязательных полей: Name, BIC"):
        build(without)
    with pytest.raises(PaymentQRError, match="Поле Sum указано дважды"):
        build([*PAYEE.items(), ("Sum", "1"), ("Sum", "2")])


def test_a_lowercase_kpp_letter_is_refused_and_an_uppercase_one_taken():
    assert check("KPP", "7701AB001") == "7701AB001"
    with pytest.raises(PaymentQRError):
        check("KPP", "7701ab001")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "нет заголовка ST0001"),
        ("Name=Вода|PersonalAcc=1", "нет заголовка ST0001"),
        ("ST00019|Name=Вода", "нет заголовка ST0001"),
        ("ST00012", "В платежном коде нет полей"),
        ("ST00012Name=Вода|PersonalAcc=1", "нет разделителя полей, а стоит «N»"),
        (build(PAYEE) + "|Sum", "поле без значения: «Sum»"),
        (build(PAYEE) + "|sum=1|SUM=2", "поле Sum указано дважды"),
        (build(PAYEE).replace("|BIC=043510607", ""), "нет обязательных полей: BIC"),
    ],
)
def test_parsing_refuses_what_is_not_a_payment_string(text, message):
    with pytest.raises(PaymentQRError, match=re.escape(message)):
        parse(text)


def test_fitting_free_text_cuts_it_at_a_word_and_removes_separators():
    assert fit("  ул.  Мира |\n д. 1  ", 50) == "ул. Мира д. 1"
    assert fit("г. Симферополь, ул. Очень длинная, д. 1", 30) == "г. Симферополь, ул. Очень…"
    assert fit("Оченьдлинноеслово", 10) == "Оченьдлин…"
    # A cut at a word that would lose half the text cuts inside the word instead.
    assert fit("a Оченьдлинноеслово", 10) == "a Оченьдл…"
    assert fit(" |\r\n\x00 ", 10) == ""
    with pytest.raises(ValueError):
        fit("abc def", 1)


# Any text, the separator, line breaks and control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=120) | st.lists(
    st.sampled_from(["Мира", "ул.", "д.", "|", "\n", " ", "\x00", "Симферополь,"])
).map("".join)


@given(ANY_TEXT, st.integers(min_value=2, max_value=60))
def test_fitted_text_is_within_its_limit_and_taken_by_the_builder(text, limit):
    fitted = fit(text, limit)
    whole = fit(text, 10_000)  # only cleaned: none of these texts is that long
    assert len(fitted) <= limit
    assert bool(fitted) == bool(whole)
    if fitted:
        assert check("PayerAddress", fitted) == fitted
        assert whole.startswith(fitted.removesuffix("…").rstrip(" ,.;:-"))


def test_a_banking_apps_decoder_reads_the_png_byte_for_byte(tmp_path):
    text = build({**PAYEE, **BILL})
    image = tmp_path / "qr.png"
    image.write_bytes(png(text))
    decoded = read_qr(image)
    assert decoded == text
    assert parse(decoded)["Sum"] == "123456"


def test_the_svg_scales_with_the_page_and_is_titled_for_screen_readers():
    drawn = str(svg(build(PAYEE), "QR-код <оплаты>"))
    assert drawn.startswith('<svg role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert 'class="payment-qr"' in drawn and "width=" not in drawn.split(">")[0]
    assert "<title>QR-код &lt;оплаты&gt;</title>" in drawn


def test_the_img_of_the_pdf_carries_the_png_and_an_escaped_text(tmp_path):
    text = build({**PAYEE, **BILL})
    drawn = str(png_img(text, 'QR-код "оплаты" <ЖКУ>'))
    found = re.fullmatch(
        r'<img class="payment-qr" src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="(.*)">', drawn
    )
    assert found, drawn
    assert found.group(2) == "QR-код &#34;оплаты&#34; &lt;ЖКУ&gt;"
    image = tmp_path / "qr.png"
    image.write_bytes(base64.b64decode(found.group(1)))
    assert read_qr(image) == text
