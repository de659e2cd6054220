"""Money and share formatting shared by the HTML and terminal reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reports.money import format_money, format_share, round_money, split_for_display


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12345.67", "USD", "USD 12,345.67"),
        ("1234567.891", "EUR", "EUR 1,234,567.89"),
        ("0.125", "USD", "USD 0.13"),
        ("-0.125", "USD", "USD -0.13"),
        ("-1234.5", "GBP", "GBP -1,234.50"),
        ("-0.004", "USD", "USD 0.00"),
        ("0", "USD", "USD 0.00"),
        ("1E+3", "USD", "USD 1,000.00"),
        ("150000.5", "JPY", "JPY 150,001"),
        ("12.3456", "KWD", "KWD 12.346"),
    ],
)
def test_format_money(amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown


def test_round_money_ties_go_away_from_zero():
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert round_money(Decimal("2.335"), "USD") == Decimal("2.34")
    assert round_money(Decimal("-2.345"), "USD") == Decimal("-2.35")


@pytest.mark.parametrize(
    ("total", "attributed", "expected"),
    [
        ("0.01", "0.005", ("0.01", "0.01", "0.00")),
        ("12345.670", "7802.465", ("12345.67", "7802.47", "4543.20")),
        ("0.015", "0.005", ("0.02", "0.01", "0.01")),
        ("-5.00", "1.004", ("-5.00", "1.00", "-6.00")),
    ],
)
def test_split_for_display_reconciles(total, attributed, expected):
    split = split_for_display(Decimal(total), Decimal(attributed), "USD")

    assert (split.total, split.attributed, split.unattributed) == tuple(Decimal(value) for value in expected)
    assert split.attributed + split.unattributed == split.total


def test_split_for_display_texts():
    split = split_for_display(Decimal("0.01"), Decimal("0.005"), "USD")

    assert (split.attributed_text, split.unattributed_text, split.total_text) == ("USD 0.01", "USD 0.00", "USD 0.01")


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        ("7802.465", "12345.670", "63.2%"),
        ("1", "2", "50.0%"),
        ("1", "1", "100.0%"),
        ("0", "1", "0.0%"),
        ("9999.6", "10000", "99.9%"),
        ("0.0004", "1000", "0.1%"),
    ],
)
def test_format_share(part, whole, shown):
    assert format_share(Decimal(part), Decimal(whole)) == shown


@pytest.mark.parametrize(
    ("part", "whole"),
    [("0", "0"), ("1", "-5"), ("-1", "5"), ("6", "5")],
    ids=["zero-total", "negative-total", "negative-part", "part-above-total"],
)
def test_format_share_none_when_meaningless(part, whole):
    assert format_share(Decimal(part), Decimal(whole)) is None
