import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin_app.money import MAX_TYPED_MINOR, format_money, parse_money, to_major_string


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (7500, "USD", "$75.00"), (123456, "EUR", "€1,234.56"), (-300, "GBP", "-£3.00"),
    (500, "JPY", "¥500"), (12345, "KWD", "12.345 KWD"), (5, "USD", "$0.05"),
])
def test_format_money(minor, currency, text):
    assert format_money(minor, currency) == text


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("75", "USD", 7500), ("75.5", "USD", 7550), ("1,234.50", "USD", 123450),
    ("$75.00", "USD", 7500), ("75 USD", "USD", 7500), ("usd 75", "USD", 7500),
    ("500", "JPY", 500), ("¥1,000", "JPY", 1000), ("1.234", "KWD", 1234),
    ("12,345.678", "KWD", 12345678),
    # A decimal comma is what half the world types: "75,00" is $75.00, never $7,500.00.
    ("75,00", "USD", 7500), ("1,00", "USD", 100), ("75,5", "USD", 7550),
    ("1.234,56", "EUR", 123456), ("1 234,56", "EUR", 123456), ("1'234.56", "CHF", 123456),
    ("1,234,567", "USD", 123456700), ("1.234.567", "EUR", 123456700), ("1 000", "USD", 100000),
    (" 75 ", "USD", 7500), ("-3", "USD", -300),
])
def test_parse_money(text, currency, minor):
    assert parse_money(text, currency) == minor
    assert parse_money(to_major_string(minor, currency), currency) == minor


@pytest.mark.parametrize(("text", "currency"), [
    ("75.001", "USD"), ("abc", "USD"), ("1.5", "JPY"), ("", "USD"), ("   ", "USD"),
    ("nan", "USD"), ("inf", "USD"),
    # Ambiguous: a thousand and more, or one and a bit? Refused, never guessed.
    ("1,234", "USD"), ("1.234", "USD"), ("1,000", "USD"),
    # Not how people write money.
    ("1e3", "USD"), ("1_000", "USD"), ("７５", "USD"), ("٧٥", "USD"), ("1,2,3", "USD"),
    ("1,234.5.6", "USD"), (".5", "USD"), ("5.", "USD"), ("75\x00", "USD"), ("--5", "USD"),
    # Far beyond any bill, and beyond a 64-bit column.
    ("92233720368547758.07", "USD"), ("1" * 40, "USD"),
])
def test_parse_money_refuses_what_it_cannot_read_for_sure(text, currency):
    with pytest.raises(ValueError) as refused:
        parse_money(text, currency)
    assert "Enter" in str(refused.value) or "too large" in str(refused.value)


@given(st.integers(min_value=-MAX_TYPED_MINOR, max_value=MAX_TYPED_MINOR),
       st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
def test_what_the_panel_shows_reads_back_as_the_same_amount(minor, currency):
    assert parse_money(to_major_string(minor, currency), currency) == minor
    assert parse_money(format_money(minor, currency).replace("-", ""), currency) == abs(minor)


@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_value_error(text):
    try:
        minor = parse_money(text, "USD")
    except ValueError:
        return
    assert isinstance(minor, int) and abs(minor) <= MAX_TYPED_MINOR
