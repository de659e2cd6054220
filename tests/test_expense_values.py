"""Amounts, dates and the file conventions that settle the ones that read two ways."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from collectors.expense.amounts import AmountText, amount_from_number, read_amount
from collectors.expense.conventions import ConventionTracker
from collectors.expense.dates import DateText, date_from_cell, read_date


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("20.00", "20.00", None),
        ("-20.00", "-20.00", None),
        ("$1,234.56", "1234.56", "$"),
        ("1.234,56 €", "1234.56", "EUR"),
        ("(45.10)", "-45.10", None),
        ("45.10-", "-45.10", None),
        ("-$20.00", "-20.00", "$"),
        ("$-20.00", "-20.00", "$"),
        ("USD 1,000.00", "1000.00", "USD"),
        ("12,50 EUR", "12.50", "EUR"),
        ("£6.45", "6.45", "GBP"),
        ("US$ 30", "30", "USD"),
        ("1'234.50", "1234.50", None),
        ("1 234,50", "1234.50", None),
        ("12.00 CR", "-12.00", None),
        ("12.00 DR", "12.00", None),
        ("\u221215.00", "-15.00", None),
        ("1,234,567.89", "1234567.89", None),
        ("20,00", "20.00", None),
    ],
)
def test_amount_reads_one_way(text, value, currency):
    amount = read_amount(text)
    assert amount.any_value() == Decimal(value)
    assert amount.ambiguous is False
    assert amount.currency == currency


def test_thousands_or_decimal_amount_reads_both_ways():
    amount = read_amount("1,234")
    assert amount.dot == Decimal("1234")
    assert amount.comma == Decimal("1.234")
    assert amount.ambiguous is True


@pytest.mark.parametrize("text", ["", "ten dollars", "N/A", "1,23,4", "12..5", "--"])
def test_non_amount_is_none(text):
    assert read_amount(text) is None


def test_spreadsheet_number_keeps_its_digits():
    assert str(amount_from_number(12.5).dot) == "12.50"
    assert str(amount_from_number(0.1).dot) == "0.10"
    assert str(amount_from_number(7).comma) == "7.00"
    assert str(amount_from_number(0.125).dot) == "0.125"
    assert str(amount_from_number(Decimal("19.99")).dot) == "19.99"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03", date(2026, 11, 3)),
        ("2026-11-03T14:22:01.000Z", date(2026, 11, 3)),
        ("2026-11-03 00:00:00", date(2026, 11, 3)),
        ("2026/11/03", date(2026, 11, 3)),
        ("03 Nov 2026", date(2026, 11, 3)),
        ("3-NOV-26", date(2026, 11, 3)),
        ("Nov 3, 2026", date(2026, 11, 3)),
        ("November 3, 2026", date(2026, 11, 3)),
        ("11/13/2026", date(2026, 11, 13)),
        ("13.11.2026", date(2026, 11, 13)),
        ("11/13/2026 2:15 PM", date(2026, 11, 13)),
    ],
)
def test_date_reads_one_way(text, expected):
    reading = read_date(text)
    assert reading.any_value() == expected
    assert reading.ambiguous is False


def test_dotted_date_is_marked_day_first():
    reading = read_date("03.11.2026")
    assert reading.dotted is True
    assert reading.day_first == date(2026, 11, 3)
    assert read_date("03/11/2026").dotted is False


def test_dotted_dates_decide_day_first():
    tracker = ConventionTracker()
    tracker.observe_date(1, "03.11.2026", read_date("03.11.2026"))
    decision = tracker.decide_date_order()
    assert decision.value == "day_first"
    assert decision.source == "dotted"
    assert tracker.date_of(read_date("03.11.2026"), decision.value) == date(2026, 11, 3)


def test_day_month_date_reads_both_ways():
    reading = read_date("03/04/2026")
    assert reading.month_first == date(2026, 3, 4)
    assert reading.day_first == date(2026, 4, 3)
    assert reading.ambiguous is True


def test_two_digit_year_is_this_century():
    assert read_date("11/13/26").month_first == date(2026, 11, 13)


@pytest.mark.parametrize("text", ["", "not a date", "2026-13-01", "31/31/2026", "2026-11-03 lunch", "Smarch 3, 2026"])
def test_non_date_is_none(text):
    assert read_date(text) is None


def test_spreadsheet_date_has_one_reading():
    assert date_from_cell(datetime(2026, 11, 3, 9, 30)) == DateText(date(2026, 11, 3), date(2026, 11, 3))


def test_one_way_rows_decide_date_order():
    tracker = ConventionTracker()
    tracker.observe_date(1, "03/04/2026", read_date("03/04/2026"))
    tracker.observe_date(2, "13/04/2026", read_date("13/04/2026"))
    decision = tracker.decide_date_order()
    assert decision.value == "day_first"
    assert decision.source == "rows"
    assert decision.example == (2, "13/04/2026")


def test_minority_date_order_rows_contradict():
    tracker = ConventionTracker()
    for row, text in enumerate(["13/04/2026", "14/04/2026", "04/13/2026"], start=1):
        tracker.observe_date(row, text, read_date(text))
    decision = tracker.decide_date_order()
    assert decision.value == "day_first"
    assert decision.contradicting.count == 1
    assert decision.contradicting.examples == [(3, "04/13/2026")]


def test_all_ambiguous_dates_fall_back_to_month_first():
    tracker = ConventionTracker()
    tracker.observe_date(1, "03/04/2026", read_date("03/04/2026"))
    decision = tracker.decide_date_order()
    assert decision.value == "month_first"
    assert decision.source == "default"


def test_fixed_date_order_rejects_impossible_date():
    tracker = ConventionTracker(date_order="month_first")
    assert tracker.observe_date(4, "13/11/2026", read_date("13/11/2026")) == "date '13/11/2026' is not valid as month/day/year"


def test_comma_amounts_decide_decimal_mark():
    tracker = ConventionTracker()
    tracker.observe_amount(1, "1.234", read_amount("1.234"))
    tracker.observe_amount(2, "12,50", read_amount("12,50"))
    decision = tracker.decide_decimal_mark()
    assert decision.value == ","
    assert decision.source == "rows"


def test_mostly_negative_amounts_make_purchases_negative():
    tracker = ConventionTracker()
    for row, text in enumerate(["-25.00", "-6.75", "500.00"], start=1):
        tracker.observe_amount(row, text, read_amount(text))
    assert tracker.decide_charge_sign().value == "-1"


def test_fixed_decimal_mark_rejects_other_mark():
    tracker = ConventionTracker(decimal_mark=".")
    assert tracker.observe_amount(1, "20,00", read_amount("20,00")) == (
        "amount '20,00' cannot be read with '.' as the decimal mark; set decimal_mark for this file if the file uses the other"
    )


def test_amount_text_value_by_mark():
    amount = AmountText(Decimal("1.234"), Decimal("1234"))
    assert amount.value(".") == Decimal("1.234")
    assert amount.value(",") == Decimal("1234")
