"""Every export layout, read from a file shaped like the real export, and the encodings, delimiters
and workbook forms they come in."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from collectors.expense.catalogue import load_catalogue
from collectors.expense.charges import read_file
from collectors.expense.settings import FileSettings, parse_settings
from collectors.expense.tables import detect_encoding

DATA = Path(__file__).parent / "data" / "expense"
CATALOGUE = load_catalogue()


def read(name: str | Path, settings: FileSettings | None = None):
    path = name if isinstance(name, Path) else DATA / name
    return read_file(path, settings or FileSettings(), CATALOGUE, location=path.name)


def summary(reading):
    return [(charge.row, charge.vendor.id, str(charge.amount), charge.currency) for charge in reading.charges]


def test_amex_us_statement():
    reading = read("amex_us_activity.csv")
    assert reading.error is None
    assert reading.layout == "amex"
    assert reading.row_count == 8
    assert summary(reading) == [
        (1, "openai", "150.00", "USD"),
        (3, "anthropic", "20.00", "USD"),
        (4, "midjourney", "60.00", "USD"),
        (5, "midjourney", "-60.00", "USD"),
    ]
    assert reading.bad_row_count == 0


def test_amex_us_charge_fields():
    charges = read("amex_us_activity.csv").charges
    assert charges[0].date == date(2026, 11, 28)
    assert charges[0].cardholder == "PRIYA RAMAN"
    assert charges[0].card == "-41004"
    assert charges[0].kind == "seat"
    assert charges[1].channel == "app_store"
    assert charges[1].memo == "APPLE.COM/BILL Claude Pro monthly 866-712-7753"
    assert charges[3].refund is True


def test_amex_us_date_order_is_named():
    notes = read("amex_us_activity.csv").notes
    assert "amex_us_activity.csv: dates read as month/day/year, the order American Express (US) exports use." in notes


def test_amex_blank_lines_above_header(tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text("\n\n" + (DATA / "amex_us_activity.csv").read_text(encoding="utf-8"), encoding="utf-8")
    reading = read(path)
    assert reading.layout == "amex"
    assert reading.notes[0] == "activity.csv: American Express (US) layout, UTF-8, comma-separated, header on line 3."
    assert [charge.row for charge in reading.charges] == [1, 3, 4, 5]


def test_amex_uk_statement_is_day_first_sterling():
    reading = read("amex_uk_statement.csv")
    assert reading.layout == "amex_uk"
    assert summary(reading) == [(1, "openai", "20.00", "GBP"), (3, "elevenlabs", "-11.00", "GBP")]
    assert reading.charges[0].date == date(2026, 11, 3)


def test_brex_card_transactions():
    reading = read("brex_card_transactions.csv")
    assert reading.layout == "brex"
    assert summary(reading) == [
        (1, "cursor", "40.00", "USD"),
        (2, "cursor", "40.00", "USD"),
        (3, "openai", "20.00", "USD"),
        (4, "openai", "20.00", "USD"),
        (5, "openai", "20.00", "USD"),
        (6, "openai", "20.00", "USD"),
        (7, "anthropic", "100.00", "USD"),
    ]
    assert reading.charges[0].department == "Engineering"
    assert reading.charges[0].card == "3317"
    assert reading.charges[0].date == date(2026, 11, 2)


def test_brex_payment_row_is_left_out_and_said():
    reading = read("brex_card_transactions.csv")
    assert reading.left_out_rows == 1
    assert reading.bad_row_count == 0
    assert "brex_card_transactions.csv: 1 row is a card payment or transfer, not a purchase, and was left out." in reading.notes


def test_brex_memo_decides_api_credit():
    anthropic = read("brex_card_transactions.csv").charges[6]
    assert anthropic.kind == "api_credit"


def test_ramp_transactions_keep_currencies_apart():
    reading = read("ramp_transactions.csv")
    assert reading.layout == "ramp"
    assert summary(reading) == [(1, "midjourney", "30.00", "USD"), (2, "mistral", "18.00", "EUR"), (5, "perplexity", "20.00", "USD")]
    assert reading.charges[1].cardholder == "Jonas Weber"
    assert reading.charges[1].department == "Research"


def test_ramp_dashboard_export_is_ramp():
    """Shaped on the columns of Ramp's dashboard transaction CSV: no currency column, a
    two-digit-year Transaction Date beside an ISO Transaction Time, and Merchant Description
    holding the statement descriptor."""
    reading = read("ramp_dashboard_export.csv")
    assert reading.layout == "ramp"
    assert summary(reading) == [(1, "openai", "20.00", "USD"), (3, "cursor", "40.00", "USD")]
    assert reading.charges[0].cardholder == "Dana Whitfield"
    assert reading.charges[0].department == "Claims"
    assert reading.charges[1].card == "7718"
    assert str(reading.charges[1].date) == "2026-11-09"


def test_expensify_classic_reads_original_amount():
    reading = read("expensify_classic.csv")
    assert reading.layout == "expensify"
    assert summary(reading) == [(1, "anthropic", "20.00", "USD"), (3, "perplexity", "19.00", "GBP")]
    assert reading.charges[0].channel == "app_store"


def test_expensify_classic_unnamed_app_store_charge_is_said():
    reading = read("expensify_classic.csv")
    assert reading.unnamed_app_store_rows == 1
    assert "expensify_classic.csv: 1 app-store charge names no product in the memo; an AI subscription among them cannot be recognised." in reading.notes


def test_expensify_claim_for_app_store_and_github(tmp_path):
    # Expense claims name the merchant as a person picked it, not as the card statement shows it.
    path = tmp_path / "expensify.csv"
    path.write_text(
        "Timestamp,Merchant,Amount,MCC,Category,Tag,Comment,Reimbursable,Original Currency,Original Amount,Receipt\n"
        "2026-11-04 09:12:00,Apple,20.00,5818,Software,,Claude Pro,yes,USD,20.00,\n"
        "2026-11-05 10:01:00,App Store,22.99,5818,Software,,ChatGPT Plus via iPhone,yes,USD,22.99,\n"
        "2026-11-06 11:30:00,GitHub,19.00,5734,Software,,Copilot for the new laptop,yes,USD,19.00,\n"
        "2026-11-07 12:00:00,Apple,1299.00,5732,Hardware,,MacBook Air,yes,USD,1299.00,\n",
        encoding="utf-8",
    )
    reading = read(path)
    assert summary(reading) == [(1, "anthropic", "20.00", "USD"), (2, "openai", "22.99", "USD"), (3, "github-copilot", "19.00", "USD")]
    assert [charge.channel for charge in reading.charges] == ["app_store", "app_store", "direct"]
    assert reading.unnamed_app_store_rows == 1


def test_expensify_claims_with_typed_merchants(tmp_path):
    # An employee types the merchant; the comment names the product.
    claims = [
        ("Cursor", "Cursor Pro monthly", "cursor"),
        ("Claude", "Claude Pro", "anthropic"),
        ("Mistral", "Le Chat Pro", "mistral"),
        ("Windsurf", "Windsurf Pro", "codeium"),
        ("Microsoft", "Copilot Pro", "microsoft-copilot"),
        ("Gamma", "Gamma Pro", "gamma"),
        ("Runway", "Runway Standard plan", "runway"),
        ("Google", "Gemini Advanced", "google"),
        ("Claude's Bistro", "Claude Pro team lunch", None),
        ("Uber", "ride to the ChatGPT meetup", None),
        ("Runway", "Airport parking", None),
    ]
    lines = ["Timestamp,Merchant,Amount,MCC,Category,Tag,Comment,Reimbursable,Original Currency,Original Amount,Receipt"]
    lines += [f"2026-11-{day:02d} 09:00:00,{merchant},20.00,5818,Software,,{memo},yes,USD,20.00," for day, (merchant, memo, _) in enumerate(claims, start=1)]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reading = read(path)
    expected = [(row, vendor) for row, (_, _, vendor) in enumerate(claims, start=1) if vendor]
    assert [(charge.row, charge.vendor.id) for charge in reading.charges] == expected
    assert {charge.confidence for charge in reading.charges} == {"medium"}
    assert {charge.channel for charge in reading.charges} == {"direct"}


def test_new_expensify_download():
    reading = read("expensify_new.csv")
    assert reading.layout == "expensify_new"
    assert summary(reading) == [(1, "anthropic", "30.00", "USD")]
    assert reading.charges[0].cardholder == "dana.whitfield@larkspur.example"
    assert reading.charges[0].kind == "seat"


def test_concur_report_with_title_rows():
    reading = read("concur_expense_entries.csv")
    assert reading.layout == "concur"
    assert reading.notes[0] == "concur_expense_entries.csv: SAP Concur layout, UTF-8, semicolon-separated, header on line 4."
    assert summary(reading) == [(1, "anthropic", "1210.00", "EUR"), (3, "github-copilot", "19.00", "USD")]


def test_concur_dotted_dates_are_day_first():
    reading = read("concur_expense_entries.csv")
    assert reading.date_order == "day_first"
    assert reading.charges[0].date == date(2026, 11, 3)
    assert (
        "concur_expense_entries.csv: dates written with dots, such as row 1 (03.11.2026), read as day/month/year, "
        "the order of that form. Set date_order: month_first for this file if that is wrong."
    ) in reading.notes


def test_concur_department_and_employee():
    charge = read("concur_expense_entries.csv").charges[0]
    assert charge.cardholder == "Hoffmann, Lena"
    assert charge.department == "Platform Engineering"


def test_concur_report_with_extract_field_names():
    """Shaped on a Concur journal report that names the Standard Accounting Extract's fields, as
    a public clean-up tool's column list shows: first and last name apart, no currency column."""
    reading = read("concur_journal_report.csv", FileSettings(currency="USD"))
    assert reading.layout == "concur"
    assert summary(reading) == [(1, "openai", "60.00", "USD"), (3, "perplexity", "20.00", "USD"), (5, "perplexity", "-20.00", "USD")]
    assert [charge.cardholder for charge in reading.charges] == ["Dana Whitfield", "Priya Natarajan", "Priya Natarajan"]
    assert reading.charges[0].department == "CC-3100"
    assert reading.charges[1].channel == "app_store"


def test_concur_extract():
    reading = read("concur_sae_extract.txt")
    assert reading.error is None
    assert reading.layout == "concur_sae"
    assert reading.row_count == 9
    assert summary(reading) == [
        (1, "anthropic", "1210.00", "EUR"),
        (5, "github-copilot", "19.00", "USD"),
        (7, "midjourney", "-30.00", "USD"),
        (8, "openai", "70.00", "USD"),
    ]
    assert reading.notes[0] == (
        "concur_sae_extract.txt: SAP Concur Standard Accounting Extract, batch 42 of 2026-12-01, UTF-8, pipe-separated, no header row."
    )


def test_concur_extract_charge_fields():
    anthropic, copilot = read("concur_sae_extract.txt").charges[:2]
    assert anthropic.cardholder == "Lena Hoffmann"
    assert anthropic.date == date(2026, 11, 3)
    assert anthropic.memo == "API credits for batch evaluation"
    assert anthropic.kind == "api_credit"
    # The entry's own amount and currency, not the euros it was posted in.
    assert (copilot.amount, copilot.currency) == (Decimal("19.00"), "USD")


def test_concur_extract_left_out_lines():
    reading = read("concur_sae_extract.txt")
    assert reading.left_out_rows == 3
    assert (
        "concur_sae_extract.txt: 3 rows were left out: 1 further journal line of an expense entry already counted "
        "(an allocation or settlement); 1 journal line of no expense entry, such as a cash advance; "
        "1 line of an entry marked personal."
    ) in reading.notes


def test_concur_extract_short_line_is_a_bad_row():
    reading = read("concur_sae_extract.txt")
    assert reading.bad_row_count == 1
    assert (reading.bad_rows[0].row, reading.bad_rows[0].reason) == (9, "has 60 fields where the columns read need 123; the line may be cut short")


def _extract_lines() -> list[str]:
    return (DATA / "concur_sae_extract.txt").read_text(encoding="utf-8").splitlines()


def test_concur_extract_line_count_mismatch(tmp_path):
    lines = _extract_lines()
    path = tmp_path / "extract_CES_SAE_v3_cut.txt"
    path.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    notes = read(path).notes
    assert (
        "extract_CES_SAE_v3_cut.txt: the extract header counts 9 DETAIL lines but the file has 4; "
        "the file may be cut short or edited. Export the batch again."
    ) in notes


def test_concur_extract_foreign_line_is_a_bad_row(tmp_path):
    lines = _extract_lines()
    path = tmp_path / "extract.txt"
    path.write_text("\n".join([*lines[:3], "TRAILER|2", *lines[3:]]) + "\n", encoding="utf-8")
    reading = read(path)
    assert (reading.bad_rows[0].row, reading.bad_rows[0].reason) == (3, "starts with 'TRAILER' where a Standard Accounting Extract line starts with DETAIL")


def test_concur_extract_columns_mapped_by_number():
    # Column 124 is the posted amount: the Copilot seat in the report's euros.
    settings = parse_settings({"files": [{"path": "x", "columns": {"amount": 124, "currency": 22, "department": 10}}]}).files[0]
    reading = read("concur_sae_extract.txt", settings)
    assert summary(reading)[1] == (5, "github-copilot", "16.00", "EUR")
    assert reading.charges[0].department == "Platform Engineering"


def test_concur_extract_column_beyond_lines_is_an_error():
    settings = parse_settings({"files": [{"path": "x", "columns": {"department": 500}}]}).files[0]
    reading = read("concur_sae_extract.txt", settings)
    assert reading.error == "columns.department: column 500 is beyond the 400 fields of this extract's DETAIL lines; check the number"


def test_concur_extract_header_names_rejected():
    reading = read("concur_sae_extract.txt", FileSettings(columns={"amount": ("Journal Amount",)}))
    assert reading.error == (
        "a Standard Accounting Extract has no header row; name its columns by number (1 is the DETAIL column), such as amount: 124"
    )


def test_concur_extract_format_on_another_file():
    reading = read("concur_journal_report.csv", FileSettings(format="concur_sae"))
    assert reading.error == (
        "is not a Standard Accounting Extract: its first line is not EXTRACT|batch date|record count|amount|batch id; "
        "check the file, or set format to the layout it has"
    )


def test_columns_by_number_and_name_parts(tmp_path):
    path = tmp_path / "card.csv"
    path.write_text(
        "Booked,Text,Value,First,Last\n2026-11-03,OPENAI *CHATGPT SUBSCR,20.00,Ana,Silva\n",
        encoding="utf-8",
    )
    settings = parse_settings({
        "files": [{"path": "card.csv", "currency": "EUR", "columns": {"date": 1, "merchant": "Text", "amount": 3, "cardholder": ["First", 5]}}],
    }).files[0]
    reading = read(path, settings)
    assert summary(reading) == [(1, "openai", "20.00", "EUR")]
    assert reading.charges[0].cardholder == "Ana Silva"


def test_generic_bank_export_with_negative_purchases():
    reading = read("generic_bank_card.csv", FileSettings(currency="USD"))
    assert reading.layout == "generic"
    assert summary(reading) == [(1, "openai", "25.00", "USD"), (3, "midjourney", "30.00", "USD"), (5, "openai", "-25.00", "USD")]
    assert "generic_bank_card.csv: purchases read as the negative amounts, as 3 of 4 non-zero amounts are negative." in reading.notes


def test_generic_without_currency_lists_xxx():
    reading = read("generic_bank_card.csv")
    assert [charge.currency for charge in reading.charges] == ["XXX", "XXX", "XXX"]
    assert (
        "generic_bank_card.csv: 3 AI charges name no currency (the file has no currency column and the amounts name none), "
        "listed under XXX, the ISO 4217 code for no currency. Set currency for this file in the config."
    ) in reading.notes


def test_generic_debit_and_credit_columns():
    reading = read("generic_debit_credit.csv", FileSettings(currency="USD"))
    assert summary(reading) == [(1, "github-copilot", "19.00", "USD"), (3, "github-copilot", "-19.00", "USD")]
    assert reading.charges[0].card == "7731"


def test_mapped_columns_windows_1252():
    settings = parse_settings({
        "files": [{
            "path": "mapped_windows1252.csv",
            "columns": {
                "date": "Buchungsdatum",
                "merchant": "Händler",
                "amount": "Betrag (EUR)",
                "cardholder": "Karteninhaber",
                "department": "Abteilung",
                "memo": "Verwendungszweck",
            },
        }],
    }).files[0]
    reading = read("mapped_windows1252.csv", settings)
    assert reading.error is None
    assert reading.notes[0] == "mapped_windows1252.csv: generic card export layout, Windows-1252, semicolon-separated, header on line 1."
    assert summary(reading) == [(1, "anthropic", "1234.56", "EUR"), (3, "openai", "25.00", "EUR")]
    assert reading.charges[0].cardholder == "Jürgen Maß"
    assert reading.charges[0].department == "Forschung"
    assert reading.charges[1].date == date(2026, 11, 13)


def test_mapped_column_missing_is_named():
    settings = FileSettings(columns={"date": ("Valuta",), "descriptor": ("Händler",), "amount": ("Betrag (EUR)",)})
    reading = read("mapped_windows1252.csv", settings)
    assert reading.error == "no header row in the first 30 lines has the columns for date (Valuta); check these names under columns in the config"


def test_mapped_column_number_beyond_header_is_named():
    settings = FileSettings(columns={"date": ("Buchungsdatum",), "descriptor": ("Händler",), "amount": (99,)})
    reading = read("mapped_windows1252.csv", settings)
    assert reading.error == (
        "no header row in the first 30 lines has the columns for amount (column 99); check these names under columns in the config"
    )


def test_forced_format_on_other_layout_names_the_setting():
    reading = read("ramp_transactions.csv", FileSettings(format="amex"))
    assert reading.error == (
        "no header row in the first 30 lines has the columns for date (date), merchant (description or appears on your "
        "statement as); check format: amex in the config, which names the American Express (US) layout; this file may have another"
    )


def test_workbook_mapping_missing_column_is_named(tmp_path):
    path = tmp_path / "bank.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Buchungsdatum", "Händler", "Betrag"])
    workbook.active.append([datetime(2026, 11, 3), "OPENAI", 20])
    workbook.save(path)
    settings = FileSettings(columns={"date": ("Buchungsdatum",), "descriptor": ("NoSuchColumn",), "amount": ("Betrag",)})
    assert read(path, settings).error == (
        "no header row in the first 30 rows of any sheet has the columns for merchant (NoSuchColumn); "
        "check these names under columns in the config"
    )


def test_missing_mapped_column_config_key():
    settings = FileSettings(columns={"department": ("Dept",), "cardholder_parts": ("First", "Last")})
    reading = read("ramp_transactions.csv", settings)
    assert reading.error == (
        "no header row in the first 30 lines has the columns for department (Dept), cardholder (First and Last); "
        "check these names under columns in the config"
    )


def test_utf16_le_tab_separated_with_mark(tmp_path):
    text = (DATA / "amex_uk_statement.csv").read_text(encoding="utf-8").replace(",", "\t")
    path = tmp_path / "statement.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    reading = read(path)
    assert reading.notes[0] == "statement.txt: American Express (UK) layout, UTF-16, tab-separated, header on line 1."
    assert summary(reading) == [(1, "openai", "20.00", "GBP"), (3, "elevenlabs", "-11.00", "GBP")]


def test_utf16_be_without_mark(tmp_path):
    text = (DATA / "ramp_transactions.csv").read_text(encoding="utf-8").replace(",", "\t")
    path = tmp_path / "ramp.txt"
    path.write_bytes(text.encode("utf-16-be"))
    reading = read(path)
    assert reading.notes[0] == "ramp.txt: Ramp layout, UTF-16 BE, tab-separated, header on line 1."
    assert len(reading.charges) == 3


def test_utf8_with_byte_order_mark(tmp_path):
    path = tmp_path / "brex.csv"
    path.write_bytes(codecs.BOM_UTF8 + (DATA / "brex_card_transactions.csv").read_bytes())
    reading = read(path)
    assert reading.layout == "brex"
    assert len(reading.charges) == 7


def test_broken_utf16_is_an_error(tmp_path):
    path = tmp_path / "statement.txt"
    text = "Date\tDescription\tAmount\tCurrency\r\n2026-11-03\tANTHROPIC\t20.00\tUSD\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") + b"\x00")
    assert read(path).error == "is not valid UTF-16 LE text (truncated data); set encoding for this file in the config"


def test_late_windows_1252_byte_rereads_file(tmp_path):
    lines = ["Date,Description,Amount,Currency"]
    lines += [f"2026-11-01,STARBUCKS #{index:05d},4.50,USD" for index in range(3000)]
    lines += ["2026-11-02,CAF\xc9 NOIR,4.50,USD", "2026-11-03,ANTHROPIC,50.00,USD"]
    path = tmp_path / "late.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    reading = read(path)
    assert reading.error is None
    assert reading.notes[0] == "late.csv: not valid UTF-8; read as Windows-1252."
    assert summary(reading) == [(3002, "anthropic", "50.00", "USD")]


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (codecs.BOM_UTF8 + b"Date,Amount", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "Date".encode("utf-16-le"), "utf-16"),
        ("Date\tAmount".encode("utf-16-le"), "utf-16-le"),
        ("Date\tAmount".encode("utf-16-be"), "utf-16-be"),
        ("Händler".encode("utf-8"), "utf-8"),
        ("Händler".encode("cp1252"), "cp1252"),
    ],
)
def test_encoding_detection(head, encoding):
    assert detect_encoding(head) == encoding


def _ramp_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Transactions"
    sheet.append(["Larkspur Analytics: card transactions, November 2026"])
    sheet.append([])
    sheet.append(["Transaction Date", "User", "Card Last 4", "Department", "Merchant Name", "Merchant Descriptor", "Amount", "Currency", "Memo"])
    sheet.append([datetime(2026, 11, 4), "Sofia Lindqvist", "8841", "Design", "Midjourney", "MIDJOURNEY INC.", 30, "USD", "Standard plan"])
    sheet.append([datetime(2026, 11, 5), "Sofia Lindqvist", "8841", "Design", "Staples", "STAPLES 0042", 12.5, "USD", None])
    sheet.append([datetime(2026, 11, 6), "Jonas Weber", "2290", "Research", "OpenAI", "OPENAI", 12.34, "USD", "API credits"])
    sheet.append([None, None, None, None, None, None, None, None, None])
    sheet.append(["not a date", "Jonas Weber", "2290", "Research", "OpenAI", "OPENAI", 5, "USD", None])
    workbook.save(path)


def test_xlsx_workbook_with_title_rows(tmp_path):
    path = tmp_path / "ramp.xlsx"
    _ramp_workbook(path)
    reading = read(path)
    assert reading.notes[0] == "ramp.xlsx: Ramp layout, sheet 'Transactions', header in row 3."
    assert summary(reading) == [(1, "midjourney", "30.00", "USD"), (3, "openai", "12.34", "USD")]
    assert reading.charges[1].date == date(2026, 11, 6)
    assert reading.charges[1].kind == "api_credit"


def test_xlsx_bad_row_is_named(tmp_path):
    path = tmp_path / "ramp.xlsx"
    _ramp_workbook(path)
    reading = read(path)
    assert reading.bad_row_count == 1
    assert [(row.row, row.reason) for row in reading.bad_rows] == [(5, "date 'not a date' is not a date")]


def test_xlsx_missing_sheet_is_an_error(tmp_path):
    path = tmp_path / "ramp.xlsx"
    _ramp_workbook(path)
    reading = read(path, FileSettings(sheet="December"))
    assert reading.error == "has no sheet 'December'; its sheets are Transactions"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"%PDF-1.7\n", "is a PDF statement, which is not read; download the statement as CSV or XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "is an Excel 97-2003 workbook, which is not read; save it as .xlsx or CSV"),
        (b"", "is empty; export it again from the card or expense tool"),
        (b"PK\x03\x04broken", "is not a readable XLSX workbook (BadZipFile); open and save it again in a spreadsheet program"),
    ],
)
def test_unreadable_file_says_why(tmp_path, content, error):
    path = tmp_path / "export.bin"
    path.write_bytes(content)
    assert read(path).error == error


def test_file_without_known_header(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Name,Team\nPriya,Research\n", encoding="utf-8")
    assert read(path).error == (
        "no header row of a known export in the first 30 lines: expected a date, a description or merchant, "
        "and an amount column; map the columns under sources.expense in the config"
    )


def test_missing_file(tmp_path):
    assert read(tmp_path / "missing.csv").error == "file not found; check the path"


def test_forced_layout_reads_renamed_columns(tmp_path):
    path = tmp_path / "brex.csv"
    path.write_text(
        "Posted Date,Amount,Statement Descriptor,User\n2026-11-03,40.00,\"CURSOR, AI POWERED IDE\",Marco Ruiz\n",
        encoding="utf-8",
    )
    reading = read(path, FileSettings(format="brex"))
    assert reading.layout == "brex"
    assert summary(reading) == [(1, "cursor", "40.00", "USD")]
    assert reading.charges[0].amount == Decimal("40.00")
