"""Money and share formatting shared by the HTML and terminal reports."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from reports.money import (
    DisplaySplit,
    allocate,
    allocate_splits,
    format_change,
    format_money,
    format_share,
    round_money,
    split_for_display,
)


def decimals(*values: str) -> list[Decimal]:
    return [Decimal(value) for value in values]


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
        ("0.014", "0.005", ("0.01", "0.00", "0.01")),
        ("6005.3165000000", "4349.8526419411", ("6005.32", "4349.85", "1655.47")),
        ("8541.49130", "4143.26750", ("8541.49", "4143.27", "4398.22")),
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


# Largest-remainder allocation


@pytest.mark.parametrize(
    ("parts", "whole", "expected"),
    [
        (("999.264", "656.1998580589"), "1655.47", ("999.27", "656.20")),
        (("999.264", "656.1998580589"), "1655.46", ("999.26", "656.20")),
        (("0.005", "0.005"), "0.01", ("0.01", "0.00")),
        (("1.004", "-6.004"), "-5.00", ("1.00", "-6.00")),
        (("-0.004", "-0.004", "-0.002"), "-0.01", ("0.00", "-0.01", "0.00")),
        (("10.00", "-10.00"), "0.00", ("10.00", "-10.00")),
        (("0.003", "-0.003"), "0.00", ("0.00", "0.00")),
        (("0", "0"), "0.00", ("0.00", "0.00")),
        (("12.00",), "12.00", ("12.00",)),
    ],
    ids=[
        "unit-to-larger-remainders",
        "no-unit-left",
        "tie-to-first",
        "credit-part",
        "all-negative",
        "zero-whole",
        "zero-whole-sub-cent",
        "zero-parts",
        "single-part",
    ],
)
def test_allocate_examples(parts, whole, expected):
    shown = allocate(decimals(*parts), Decimal(whole), "USD")

    assert shown == decimals(*expected)
    assert sum(shown, Decimal(0)) == Decimal(whole)


def test_allocate_many_tiny_parts():
    parts = [Decimal("0.001")] * 1000

    shown = allocate(parts, Decimal("1.00"), "USD")

    assert sum(shown, Decimal(0)) == Decimal("1.00")
    assert shown[:100] == [Decimal("0.01")] * 100
    assert shown[100:] == [Decimal("0.00")] * 900


def test_allocate_random_parts_reconcile():
    generator = random.Random(20261201)
    for _ in range(500):
        count = generator.randint(1, 30)
        parts = [Decimal(generator.randint(-500_000, 2_000_000)).scaleb(-4) for _ in range(count)]
        whole = round_money(sum(parts, Decimal(0)), "USD")

        shown = allocate(parts, whole, "USD")

        assert sum(shown, Decimal(0)) == whole, parts
        assert all(abs(rounded - exact) < Decimal("0.01") for rounded, exact in zip(shown, parts)), parts


def test_allocate_is_deterministic_and_breaks_ties_by_order():
    parts = decimals("0.005", "0.005", "0.005")

    first = allocate(parts, Decimal("0.02"), "USD")
    second = allocate(parts, Decimal("0.02"), "USD")

    assert first == second
    assert first == decimals("0.01", "0.01", "0.00")


def test_allocate_uses_currency_minor_unit():
    assert allocate(decimals("1.5", "2.5"), Decimal("4"), "JPY") == decimals("2", "2")
    assert allocate(decimals("0.0005", "0.0005"), Decimal("0.001"), "KWD") == decimals("0.001", "0.000")


def test_allocate_reconciles_whole_far_from_parts():
    above = allocate(decimals("1.00", "2.00"), Decimal("3.05"), "USD")
    below = allocate(decimals("1.00", "2.00"), Decimal("2.97"), "USD")

    assert above == decimals("1.03", "2.02")
    assert below == decimals("0.99", "1.98")


def test_allocate_empty_parts():
    assert allocate([], Decimal("0.00"), "USD") == []
    with pytest.raises(ValueError, match="cannot allocate USD 1.00 over no parts"):
        allocate([], Decimal("1.00"), "USD")


def test_allocate_rejects_whole_below_minor_unit():
    with pytest.raises(ValueError, match="invalid whole 1.005: not a whole number of USD minor units; round it first"):
        allocate(decimals("1.005"), Decimal("1.005"), "USD")


def test_allocate_splits_reconcile_every_column():
    whole = split_for_display(Decimal("8541.49130"), Decimal("4143.26750"), "USD")
    exact = [
        (Decimal("1232.392"), Decimal("2453.1400")),
        (Decimal("1217.6540"), Decimal("779.4850")),
        (Decimal("1020.91700"), Decimal("491.09980")),
        (Decimal("672.3045"), Decimal("524.4990")),
        (Decimal("0"), Decimal("120.00")),
        (Decimal("0"), Decimal("30.00")),
    ]

    rows = allocate_splits(exact, whole)

    assert [row.attributed for row in rows] == decimals("1232.39", "1217.65", "1020.92", "672.31", "0.00", "0.00")
    assert [row.unattributed for row in rows] == decimals("2453.14", "779.48", "491.10", "524.50", "120.00", "30.00")
    assert [row.total for row in rows] == decimals("3685.53", "1997.13", "1512.02", "1196.81", "120.00", "30.00")
    assert sum(row.attributed for row in rows) == whole.attributed
    assert sum(row.unattributed for row in rows) == whole.unattributed
    assert sum(row.total for row in rows) == whole.total


def test_allocate_splits_with_credit_row():
    whole = DisplaySplit("USD", Decimal("8.00"), Decimal("10.00"), Decimal("-2.00"))

    rows = allocate_splits([(Decimal("10.004"), Decimal("0.996")), (Decimal("0"), Decimal("-3.004"))], whole)

    assert rows == [
        DisplaySplit("USD", Decimal("11.00"), Decimal("10.00"), Decimal("1.00")),
        DisplaySplit("USD", Decimal("-3.00"), Decimal("0.00"), Decimal("-3.00")),
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("56.729", "USD", "USD +56.73"),
        ("-1234.5", "EUR", "EUR -1,234.50"),
        ("0", "USD", "USD 0.00"),
        ("-0.001", "USD", "USD 0.00"),
        ("1500", "JPY", "JPY +1,500"),
    ],
)
def test_format_change(amount, currency, shown):
    assert format_change(Decimal(amount), currency) == shown
