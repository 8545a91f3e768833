import pytest

from admin_app.money import format_money, parse_money, to_major_string


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (7500, "USD", "$75.00"), (123456, "EUR", "€1,234.56"), (-300, "GBP", "-£3.00"),
    (500, "JPY", "¥500"), (12345, "KWD", "12.345 KWD"), (5, "USD", "$0.05"),
])
def test_format_money(minor, currency, text):
    assert format_money(minor, currency) == text


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("75", "USD", 7500), ("75.5", "USD", 7550), ("1,234.50", "USD", 123450),
    ("$75.00", "USD", 7500),
    ("500", "JPY", 500), ("1.234", "KWD", 1234),
])
def test_parse_money(text, currency, minor):
    assert parse_money(text, currency) == minor
    assert parse_money(to_major_string(minor, currency), currency) == minor


@pytest.mark.parametrize(("text", "currency"), [("75.001", "USD"), ("abc", "USD"), ("1.5", "JPY"),
                                                ("", "USD"), ("nan", "USD")])
def test_parse_money_refuses_what_it_would_have_to_round(text, currency):
    with pytest.raises(ValueError):
        parse_money(text, currency)
