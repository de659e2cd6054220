"""From rows to AI charges: bad rows counted and named, date orders reported, currencies kept
apart, refunds, and bursts of top-ups read as one auto-recharge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from collectors.expense.catalogue import load_catalogue
from collectors.expense.charges import MAX_NAMED_BAD_ROWS, Charge, read_file
from collectors.expense.review import mark_auto_recharges, review_exports
from collectors.expense.settings import BurstSettings, FileSettings

DATA = Path(__file__).parent / "data" / "expense"
CATALOGUE = load_catalogue()


def read(path: Path, settings: FileSettings | None = None):
    return read_file(path, settings or FileSettings(), CATALOGUE, location=path.name)


def write(tmp_path: Path, lines: list[str], name: str = "card.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_counted_and_named():
    reading = read(DATA / "generic_bad_rows.csv")
    assert reading.bad_row_count == 6
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (2, "has no amount"),
        (3, "date 'not a date' is not a date"),
        (4, "has no merchant or description"),
        (5, "amount 'ten dollars' is not an amount"),
        (6, "has 5 fields where the header has 4; a value may hold an unquoted ','"),
        (7, "currency 'US Dollar' is not an ISO 4217 code"),
    ]
    assert [row.location for row in reading.bad_rows] == ["generic_bad_rows.csv"] * 6


def test_letters_around_amount_make_bad_rows(tmp_path):
    lines = ["Date,Description,Amount,Currency", "2026-11-01,OPENAI,bad12,USD", "2026-11-02,OPENAI,12abc,USD", "2026-11-03,OPENAI,xyz7,"]
    reading = read(write(tmp_path, lines))
    assert reading.charges == []
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (1, "amount 'bad12' is not an amount"),
        (2, "amount '12abc' is not an amount"),
        (3, "amount 'xyz7' is not an amount"),
    ]


def test_currency_must_be_iso_and_agree(tmp_path):
    lines = [
        "Date,Description,Amount,Currency",
        "2026-11-01,OPENAI,20.00,QQQ",
        "2026-11-02,OPENAI,EUR 20.00,USD",
        "2026-11-03,OPENAI,£5.00,USD",
        "2026-11-04,OPENAI,$5.00,USD",
        "2026-11-05,OPENAI,QQQ 5.00,",
        "2026-11-06,OPENAI,$5.00,EUR",
        "2026-11-07,OPENAI,$5.00,CAD",
    ]
    reading = read(write(tmp_path, lines))
    assert [(charge.row, str(charge.amount), charge.currency) for charge in reading.charges] == [(4, "5.00", "USD"), (7, "5.00", "CAD")]
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (1, "currency 'QQQ' is not an ISO 4217 code"),
        (2, "amount is in EUR but the currency column says USD; correct the row or the column"),
        (3, "amount is in GBP but the currency column says USD; correct the row or the column"),
        (5, "amount 'QQQ 5.00' is not an amount"),
        (6, "amount has a $ sign but the currency column says EUR; correct the row or the column"),
    ]


def test_bad_rows_are_named_in_row_order(tmp_path):
    # Row 1 contradicts the date order only once the file is read; row 2 is bad at once.
    lines = ["Date,Description,Amount,Currency", "13/11/2026,OPENAI,20.00,USD", "2026-11-02,OPENAI,,USD"] + [
        f"11/{day:02d}/2026,OPENAI,20.00,USD" for day in range(14, 20)
    ]
    reading = read(write(tmp_path, lines))
    assert [row.row for row in reading.bad_rows] == [1, 2]


def test_cr_is_a_refund_where_purchases_are_negative(tmp_path):
    lines = [
        "Date,Description,Amount,Currency",
        "2026-11-01,OPENAI,-20.00,USD",
        "2026-11-02,OPENAI,20.00 CR,USD",
        "2026-11-03,STAPLES,-12.00,USD",
        "2026-11-04,DELTA AIR,-300.00,USD",
    ]
    reading = read(write(tmp_path, lines))
    assert [(charge.row, str(charge.amount)) for charge in reading.charges] == [(1, "20.00"), (2, "-20.00")]
    assert f"{reading.location}: purchases read as the negative amounts, as 3 of 3 non-zero amounts are negative." in reading.notes


def test_rows_around_bad_rows_are_read():
    reading = read(DATA / "generic_bad_rows.csv")
    assert [(charge.row, charge.vendor.id) for charge in reading.charges] == [(1, "openai"), (8, "midjourney")]
    assert reading.row_count == 8


def test_named_bad_rows_stop_at_the_limit(tmp_path):
    lines = ["Date,Description,Amount,Currency"] + [f"2026-11-01,STAPLES,n/a,USD" for _ in range(MAX_NAMED_BAD_ROWS + 20)]
    reading = read(write(tmp_path, lines))
    assert reading.bad_row_count == MAX_NAMED_BAD_ROWS + 20
    assert len(reading.bad_rows) == MAX_NAMED_BAD_ROWS


def test_blank_lines_are_neither_rows_nor_bad(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount,Currency", "2026-11-01,OPENAI,20.00,USD", "", ",,,", "2026-11-02,ANTHROPIC,10.00,USD"]))
    assert reading.row_count == 2
    assert reading.bad_row_count == 0
    assert [charge.row for charge in reading.charges] == [1, 4]


def test_ambiguous_dates_say_which_order_was_used():
    reading = read(DATA / "generic_ambiguous_dates.csv")
    assert reading.charges[0].date == date(2026, 3, 4)
    assert (
        "generic_ambiguous_dates.csv: every date reads either way, its day and month both 12 or less; they were read as month/day/year. "
        "Set date_order: day_first for this file if that is wrong."
    ) in reading.notes


def test_config_date_order_decides_ambiguous_dates():
    reading = read(DATA / "generic_ambiguous_dates.csv", FileSettings(date_order="day_first"))
    assert reading.charges[0].date == date(2026, 4, 3)
    assert "generic_ambiguous_dates.csv: dates read as day/month/year, as date_order in the config sets." in reading.notes


def test_dotted_dates_read_day_first(tmp_path):
    lines = ["Date;Description;Amount;Currency", "03.11.2026;ANTHROPIC;12,50;EUR", "04.11.2026;OPENAI;20,00;EUR"]
    reading = read(write(tmp_path, lines))
    assert [charge.date for charge in reading.charges] == [date(2026, 11, 3), date(2026, 11, 4)]
    assert reading.date_order == "day_first"
    assert reading.bad_row_count == 0


def test_config_month_first_reads_dotted_dates_month_first(tmp_path):
    lines = ["Date;Description;Amount;Currency", "03.11.2026;ANTHROPIC;12,50;EUR"]
    reading = read(write(tmp_path, lines), FileSettings(date_order="month_first"))
    assert [charge.date for charge in reading.charges] == [date(2026, 3, 11)]
    assert reading.date_order == "month_first"


def test_dotted_date_in_month_first_file(tmp_path):
    lines = ["Date,Description,Amount,Currency", "11/13/2026,OPENAI,20.00,USD", "03.11.2026,ANTHROPIC,10.00,USD"]
    reading = read(write(tmp_path, lines))
    assert reading.date_order == "month_first"
    assert [charge.date for charge in reading.charges] == [date(2026, 11, 13), date(2026, 11, 3)]


def test_invalid_dotted_date_is_bad_row(tmp_path):
    lines = ["Date,Description,Amount,Currency", "03.11.2026,OPENAI,20.00,USD", "11.13.2026,ANTHROPIC,10.00,USD"]
    reading = read(write(tmp_path, lines))
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (2, "date '11.13.2026' is not valid as day.month.year, the order of dates written with dots; "
            "set date_order: month_first for this file if its dates are month first")
    ]


def test_iso_dates_report_iso_order(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount,Currency", "2026-11-03,OPENAI,20.00,USD"]))
    assert reading.date_order == "iso"


def test_month_name_dates_report_no_order(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount,Currency", "03 Nov 2026,OPENAI,20.00,USD"]))
    assert reading.date_order is None


def test_date_contradicting_the_file_is_a_bad_row(tmp_path):
    lines = [
        "Date,Description,Amount,Currency",
        "13/11/2026,OPENAI,20.00,USD",
        "14/11/2026,STAPLES,5.00,USD",
        "11/15/2026,ANTHROPIC,10.00,USD",
    ]
    reading = read(write(tmp_path, lines))
    assert [charge.vendor.id for charge in reading.charges] == ["openai"]
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (3, "date does not read as day/month/year, the order of the rest of the file (11/15/2026)")
    ]


def test_european_amounts_decided_by_rows(tmp_path):
    lines = ["Date;Description;Amount;Currency", "03.11.2026;ANTHROPIC;1.234;EUR", "04.11.2026;STAPLES;12,50;EUR"]
    reading = read(write(tmp_path, lines))
    assert reading.charges[0].amount == Decimal("1234")
    assert "card.csv: amounts read with ',' as the decimal mark, as row 2 (12,50) shows." in reading.notes


def test_ambiguous_amounts_say_the_default(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount,Currency", '2026-11-03,ANTHROPIC,"1,234",USD']))
    assert reading.charges[0].amount == Decimal("1234")
    assert any("every amount with a separator reads either way, as 1,234 does" in note for note in reading.notes)


def test_currency_symbol_names_currency(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount", "2026-11-03,ANTHROPIC,€20.00", "2026-11-04,OPENAI,£15.00"]))
    assert [(charge.amount, charge.currency) for charge in reading.charges] == [(Decimal("20.00"), "EUR"), (Decimal("15.00"), "GBP")]


def test_bare_dollar_is_usd_and_said(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount", "2026-11-03,ANTHROPIC,$20.00"]))
    assert reading.charges[0].currency == "USD"
    assert (
        f"{reading.location}: 1 AI charge carries only a $ sign and no currency, read as USD. "
        "Set currency for this file if it is another currency written with $."
    ) in reading.notes


def test_shared_signs_take_the_currency_column(tmp_path):
    lines = [
        "Date,Description,Amount,Currency",
        "2026-11-01,OPENAI,¥2000,CNY",
        "2026-11-02,OPENAI,¥2000,JPY",
        "2026-11-03,OPENAI,\"200,00 kr\",SEK",
        "2026-11-04,OPENAI,\"200,00 kr\",EUR",
        "2026-11-05,OPENAI,¥2000,",
        "2026-11-06,OPENAI,\"200,00 kr\",",
    ]
    reading = read(write(tmp_path, lines), FileSettings(decimal_mark=","))
    assert [(charge.row, str(charge.amount), charge.currency) for charge in reading.charges] == [
        (1, "2000", "CNY"),
        (2, "2000", "JPY"),
        (3, "200.00", "SEK"),
        (5, "2000", "JPY"),
        (6, "200.00", "XXX"),
    ]
    assert [(row.row, row.reason) for row in reading.bad_rows] == [
        (4, "amount has a kr sign but the currency column says EUR; correct the row or the column"),
    ]
    assert (
        f"{reading.location}: 1 AI charge names no currency (their currency cells are empty and the amounts name none), "
        "listed under XXX, the ISO 4217 code for no currency. Set currency for this file in the config."
    ) in reading.notes


def test_file_currency_setting_names_a_dollar(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount", "2026-11-03,ANTHROPIC,$20.00"]), FileSettings(currency="CAD"))
    assert reading.charges[0].currency == "CAD"


def test_amount_header_names_currency(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount (EUR)", "2026-11-03,ANTHROPIC,20.00"]))
    assert reading.charges[0].currency == "EUR"


def test_full_card_number_shows_last_four(tmp_path):
    reading = read(write(tmp_path, ["Date,Description,Amount,Currency,Card Number", "2026-11-03,ANTHROPIC,20.00,USD,4111 1111 1111 1234"]))
    assert reading.charges[0].card == "…1234"


def test_refund_type_makes_positive_amount_a_refund(tmp_path):
    lines = ["Date,Description,Amount,Currency,Type", "2026-11-03,MIDJOURNEY INC.,30.00,USD,Purchase", "2026-11-05,MIDJOURNEY INC.,30.00,USD,Refund"]
    reading = read(write(tmp_path, lines))
    assert [charge.amount for charge in reading.charges] == [Decimal("30.00"), Decimal("-30.00")]
    assert reading.charges[1].refund is True


def _charge(day: int, amount: str = "20.00", card: str = "3317", kind: str = "unknown", vendor: str = "openai", row: int = 1) -> Charge:
    return Charge(
        file="card.csv",
        row=row,
        date=date(2026, 11, day),
        merchant="OPENAI",
        memo="",
        amount=Decimal(amount),
        currency="USD",
        vendor=CATALOGUE.vendors[vendor],
        kind=kind,
        confidence="high",
        channel="direct",
        cardholder="Marco Ruiz",
        card=card,
    )


def test_burst_of_top_ups_is_one_auto_recharge():
    charges = [_charge(12, row=1), _charge(12, row=2), _charge(13, row=3), _charge(14, row=4)]
    recharges = mark_auto_recharges(charges, BurstSettings())
    assert len(recharges) == 1
    assert recharges[0].id == "auto-recharge-1"
    assert recharges[0].amount == Decimal("80.00")
    assert recharges[0].first_date == date(2026, 11, 12)
    assert recharges[0].last_date == date(2026, 11, 14)
    assert [charge.kind for charge in charges] == ["api_credit"] * 4
    assert [charge.auto_recharge for charge in charges] == ["auto-recharge-1"] * 4


def test_two_top_ups_are_not_a_burst():
    charges = [_charge(12, row=1), _charge(13, row=2)]
    assert mark_auto_recharges(charges, BurstSettings()) == []
    assert [charge.kind for charge in charges] == ["unknown", "unknown"]


def test_gap_splits_bursts():
    charges = [_charge(day, row=day) for day in (1, 2, 3, 20, 21, 22)]
    recharges = mark_auto_recharges(charges, BurstSettings(min_charges=3, max_gap_days=2))
    assert [(recharge.id, len(recharge.charges)) for recharge in recharges] == [("auto-recharge-1", 3), ("auto-recharge-2", 3)]


def test_burst_needs_one_card():
    charges = [_charge(12, card="3317", row=1), _charge(12, card="5528", row=2), _charge(13, card="6604", row=3)]
    assert mark_auto_recharges(charges, BurstSettings()) == []


def test_files_without_cards_are_different_cards():
    charges = [_charge(12, row=1), _charge(12, row=2), _charge(13, row=3)]
    for index, charge in enumerate(charges):
        charge.cardholder, charge.card, charge.file = None, None, f"statement-{index}.csv"
    assert mark_auto_recharges(charges, BurstSettings()) == []


def test_seats_and_refunds_never_join_a_burst():
    charges = [_charge(2, kind="seat", row=1), _charge(2, kind="seat", row=2), _charge(2, kind="seat", row=3), _charge(3, amount="-20.00", row=4)]
    assert mark_auto_recharges(charges, BurstSettings()) == []


def test_vendor_without_api_never_bursts():
    charges = [_charge(day, vendor="midjourney", row=day) for day in (2, 2, 3)]
    assert mark_auto_recharges(charges, BurstSettings()) == []


def test_review_finds_burst_in_brex_export():
    review = review_exports([(DATA / "brex_card_transactions.csv", FileSettings(), "brex.csv")], CATALOGUE, BurstSettings())
    assert len(review.auto_recharges) == 1
    recharge = review.auto_recharges[0]
    assert [charge.row for charge in recharge.charges] == [3, 4, 5, 6]
    assert recharge.account == "Marco Ruiz"
    assert recharge.amount == Decimal("80.00")


def test_review_keeps_files_apart():
    review = review_exports(
        [(DATA / "ramp_transactions.csv", FileSettings(), "ramp.csv"), (DATA / "missing.csv", FileSettings(), "missing.csv")],
        CATALOGUE,
        BurstSettings(),
    )
    assert [reading.location for reading in review.unreadable] == ["missing.csv"]
    assert len(review.charges) == 3
