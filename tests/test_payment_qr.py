"""The payment string of ГОСТ Р 56042-2014: built, parsed, refused, fitted, and read back from
its image by a real decoder (zbarimg)."""

import shutil
import subprocess

import pytest
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
FREE_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="|\r\n"), min_size=1
)
VALUES = {
    name: st.from_regex(field.pattern, fullmatch=True)
    if field.pattern is not None
    else FREE_TEXT.filter(lambda text, limit=field.max_length: limit is None or len(text) <= limit)
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
        ({"Name": "Ж" * 161}, "Поле Name длиннее 160 знаков"),
        ({"BankName": "Б" * 46}, "Поле BankName длиннее 45 знаков"),
        ({"Purpose": "П" * 211}, "Поле Purpose длиннее 210 знаков"),
        ({"Name": "Вода|Север"}, "Поле Name содержит знак «|»"),
        ({"PayerAddress": "ул. Мира|1"}, "Поле PayerAddress содержит знак «|»"),
        ({"Purpose": "две\nстроки"}, "Поле Purpose содержит перевод строки"),
        ({"LastName": ""}, "Поле LastName пустое"),
        ({"PersonalAcc": "4060281000000000000"}, "Поле PersonalAcc должно содержать 20 цифр"),
        ({"CorrespAcc": "3010181033510000060A"}, "Поле CorrespAcc должно содержать 20 цифр"),
        ({"BIC": "04351060"}, "Поле BIC должно содержать 9 цифр"),
        ({"Sum": "1234,56"}, "Поле Sum должно содержать сумма в копейках"),
        ({"Sum": "1" * 19}, "Поле Sum длиннее 18 знаков"),
        ({"PayeeINN": "91020000001"}, "Поле PayeeINN должно содержать 10 или 12 цифр"),
        ({"KPP": "91020100"}, "Поле KPP должно содержать 9 знаков"),
        ({"PaymPeriod": "13.2026"}, "Поле PaymPeriod должно содержать месяц и год"),
        ({"PaymPeriod": "2026-11"}, "Поле PaymPeriod должно содержать месяц и год"),
        ({"TechCode": "2"}, "Поле TechCode должно содержать 2 цифры"),
        ({"Bonus": "1"}, "Поле Bonus не предусмотрено"),
    ],
)
def test_the_builder_refuses_what_the_standard_does_not_allow(changes, message):
    with pytest.raises(PaymentQRError, match=message):
        build({**PAYEE, **BILL, **changes})


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
        ("ST00012", "нет заголовка ST0001"),
        (build(PAYEE) + "|Sum", "поле без значения: «Sum»"),
        (build(PAYEE) + "|sum=1|SUM=2", "поле Sum указано дважды"),
        (build(PAYEE).replace("|BIC=043510607", ""), "нет обязательных полей: BIC"),
    ],
)
def test_parsing_refuses_what_is_not_a_payment_string(text, message):
    with pytest.raises(PaymentQRError, match=message):
        parse(text)


def test_fitting_free_text_cuts_it_at_a_word_and_removes_separators():
    assert fit("  ул.  Мира |\n д. 1  ", 50) == "ул. Мира д. 1"
    assert fit("г. Симферополь, ул. Очень длинная, д. 1", 30) == "г. Симферополь, ул. Очень…"
    assert fit("Оченьдлинноеслово", 10) == "Оченьдлин…"


@given(FREE_TEXT, st.integers(min_value=2, max_value=250))
def test_fitted_text_is_within_its_limit_and_taken_by_the_builder(text, limit):
    fitted = fit(text, limit)
    assert len(fitted) <= limit
    if fitted:
        assert check("PayerAddress", fitted) == fitted
        assert check("Purpose", fit(text, 210)) == fit(text, 210)


@pytest.fixture(scope="module")
def zbarimg():
    found = shutil.which("zbarimg")
    if found is None:
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools)")
    return found


def test_a_banking_apps_decoder_reads_the_png_byte_for_byte(zbarimg, tmp_path):
    text = build({**PAYEE, **BILL})
    image = tmp_path / "qr.png"
    image.write_bytes(png(text))
    decoded = subprocess.run(  # noqa: S603 - Debian's zbarimg on our own file
        [zbarimg, "--raw", "-q", "--nodbus", str(image)],
        capture_output=True,
        check=True,
        text=True,
        encoding="utf-8",
    ).stdout
    assert decoded.removesuffix("\n") == text
    assert parse(decoded.removesuffix("\n"))["Sum"] == "123456"


def test_the_svg_scales_with_the_page_and_is_titled_for_screen_readers():
    drawn = str(svg(build(PAYEE), "QR-код <оплаты>"))
    assert drawn.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert 'class="payment-qr"' in drawn and "width=" not in drawn.split(">")[0]
    assert "<title>QR-код &lt;оплаты&gt;</title>" in drawn
