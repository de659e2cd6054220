"""The export layouts shadowmap reads, recognised by their header row.

Each layout names the columns it needs (its signature) and, for every field of a charge, the
header names it may carry, in order of preference. Headers are compared case-insensitively with
runs of spaces folded, so `Card Member` and `card  member` are one name. A config can map the
columns of any other layout by header name (`columns:` in the file's settings).

Where the column names come from:
- American Express (US): the activity CSV download (Date, Description, Card Member, Account #,
  Amount, Extended Details, Appears On Your Statement As, Address, City/State, Zip Code, Country,
  Reference, Category); dates month first, charges positive, credits negative, US dollars.
- American Express (UK): the statement CSV (Date, Date Processed, Description, Amount, Foreign
  Spend Amount, Non-sterling transaction fee, Exchange Rate, Doing Business As, Merchant Address,
  Additional Information, Category, Subcategory); pounds sterling. NOTE: its day-first dates
  follow the UK convention and were not seen in a published sample; date_order overrides them.
- Brex: the card transactions CSV (Swipe Date (UTC), Posted Date, Type, Amount, Outstanding
  Balance, User, Department, Location, Transaction Source, Statement Descriptor, Merchant Name,
  Brex Category, Last 4, Memo, Id); ISO dates, US dollars.
- Ramp: the dashboard's transaction CSV (Transaction Date, Transaction Time, Amount, Merchant
  Description, Merchant Name, User, Card Last 4, Ramp Category, Ramp Department, Memo, Clearing
  Date, External ID and more; US dollars, no currency column), and exports with the API's field
  names (Merchant Descriptor beside Merchant Name, User, Card Last 4, Department, Currency), in
  title case or snake_case. Ramp lets administrators rename and hide CSV columns, so a customised
  export needs a mapping.
- Expensify Classic: the default CSV (Timestamp, Merchant, Amount, MCC, Category, Tag, Comment,
  Reimbursable, Original Currency, Original Amount, Receipt). Amount is in the report's currency,
  which the file does not name, so the original amount and currency are read.
- New Expensify: the expense download (Date, Merchant, Description, From, To, Category, Tag, Tax,
  Amount, Currency, Type, Receipt URL).
- SAP Concur: expense entry reports from Concur's reporting (Analysis/Intelligence), which name
  Expense Type, Transaction Date, Vendor or Vendor Description, Transaction Amount, Transaction
  Currency and Employee; their date order follows the user's locale. Reports and spreadsheets
  built from the Standard Accounting Extract name its fields instead (Report Entry Transaction
  Date, Report Entry Vendor Description, Report Entry Vendor Name, Report Entry Expense Type Name,
  Journal Amount, Employee First Name, Employee Last Name), as a public clean-up tool's column
  list shows. The extract itself has no header row; sae.py reads it.
- Generic card exports: a date, a description and an amount (or debit and credit columns), such
  as the CSV downloads of most card issuers and banks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.expense.currencies import is_currency_code

FIELDS = (
    "date", "descriptor", "memo", "amount", "debit", "credit", "currency", "cardholder", "cardholder_parts", "card", "department", "type",
)
# Fields that may name several columns; every column present is used, in order. The parts of a
# cardholder's name (first and last name columns) are read when no cardholder column is found.
MULTI_FIELDS = ("descriptor", "memo", "cardholder_parts")
AMOUNT_FIELDS = ("amount", "debit", "credit")
# A config names the descriptor column `merchant`, the word exports use.
CONFIG_FIELD_NAMES = {"merchant": "descriptor"}
# The config's key of each field the code names otherwise, for messages: the parts of a name
# are mapped under `cardholder`.
CONFIG_KEYS = {"descriptor": "merchant", "cardholder_parts": "cardholder"}

_CURRENCY_SUFFIX = re.compile(r"^(.*?)\s*[(\[]([a-z]{3})[)\]]$")

GENERIC_DATES = (
    "transaction date", "date", "trans. date", "trans date", "txn date", "purchase date", "posted date",
    "post date", "posting date", "booking date", "value date", "date posted",
)
GENERIC_DESCRIPTORS = (
    "description", "merchant", "merchant name", "payee", "transaction description", "details", "narrative",
    "name", "vendor",
)
GENERIC_CARDHOLDERS = ("cardholder", "card holder", "cardholder name", "card member", "cardmember", "name on card", "user", "employee")
GENERIC_CARDS = ("card", "card no.", "card number", "card last 4", "last 4", "card last four", "account number", "account")
PAYMENT_TYPES = frozenset({"payment", "autopay", "payment to brex", "transfer", "payment received"})
REFUND_TYPES = frozenset({"return", "refund", "credit", "reversal"})


class RowProblem(str):
    """A row that a reader could not split into fields, given as the reason the row is bad."""


@dataclass(frozen=True)
class Layout:
    """One export layout: how to recognise it and where each field of a charge is."""

    name: str
    title: str
    signature: tuple[tuple[str, ...], ...]
    columns: dict[str, tuple[str, ...]]
    date_order: str | None = None
    decimal_mark: str | None = None
    charge_sign: int | None = None
    currency: str | None = None
    non_charge_types: frozenset[str] = PAYMENT_TYPES
    refund_types: frozenset[str] = REFUND_TYPES
    # Whether the merchant is what a person typed or picked in an expense claim (Expensify,
    # Concur), rather than the descriptor a card network wrote.
    claims: bool = False
    # What each left-out type means, for the notes, in the singular and the plural; by default
    # they are card payments.
    left_out_words: dict[str, tuple[str, str]] | None = None


@dataclass(frozen=True)
class ColumnMap:
    """Column positions (zero-based) of each field of a charge in one file's rows, with the header names."""

    positions: dict[str, tuple[int, ...]]
    headers: dict[str, tuple[str, ...]]
    header_currency: str | None = None
    width: int = 0

    def first(self, name: str) -> int | None:
        found = self.positions.get(name, ())
        return found[0] if found else None

    def all(self, name: str) -> tuple[int, ...]:
        return self.positions.get(name, ())


AMEX_US = Layout(
    name="amex",
    title="American Express (US)",
    signature=(("date",), ("description",), ("amount",), ("appears on your statement as", "extended details", "card member", "account #")),
    columns={
        "date": ("date",),
        "descriptor": ("description", "appears on your statement as"),
        "memo": ("extended details",),
        "amount": ("amount",),
        "cardholder": ("card member",),
        "card": ("account #",),
        "type": (),
    },
    date_order="month_first",
    decimal_mark=".",
    charge_sign=1,
    currency="USD",
)

AMEX_UK = Layout(
    name="amex_uk",
    title="American Express (UK)",
    signature=(("date",), ("description",), ("amount",), ("date processed", "non-sterling transaction fee", "doing business as")),
    columns={
        "date": ("date",),
        "descriptor": ("description", "doing business as"),
        "memo": ("additional information",),
        "amount": ("amount",),
        "cardholder": ("card member",),
        "card": ("account #",),
    },
    date_order="day_first",
    decimal_mark=".",
    charge_sign=1,
    currency="GBP",
)

BREX = Layout(
    name="brex",
    title="Brex",
    signature=(("statement descriptor",), ("amount",), ("swipe date (utc)", "posted date", "posted date (utc)")),
    columns={
        "date": ("swipe date (utc)", "posted date", "posted date (utc)"),
        "descriptor": ("statement descriptor", "merchant name"),
        "memo": ("memo",),
        "amount": ("amount",),
        "currency": ("currency", "original currency"),
        "cardholder": ("user",),
        "card": ("last 4",),
        "department": ("department",),
        "type": ("type",),
    },
    decimal_mark=".",
    charge_sign=1,
    currency="USD",
)

RAMP = Layout(
    name="ramp",
    title="Ramp",
    signature=(
        ("merchant descriptor", "merchant_descriptor", "merchant description"),
        ("amount",),
        ("merchant descriptor", "merchant_descriptor", "ramp category", "ramp department"),
    ),
    columns={
        # The dashboard's Transaction Date has a two-digit year (11/03/26); Transaction Time is
        # the same moment as 2026-11-03 09:14:52, so it comes first.
        "date": ("transaction time", "user_transaction_time", "transaction date", "date", "settlement date", "clearing time"),
        "descriptor": (
            "merchant descriptor", "merchant_descriptor", "merchant description", "merchant name", "merchant_name", "merchant",
        ),
        "memo": ("memo",),
        "amount": ("amount",),
        "currency": ("currency", "currency_code", "currency code"),
        "cardholder": ("user", "cardholder name", "cardholder", "card holder", "card_holder_name", "employee"),
        "card": ("card last 4", "last 4", "card_last_four", "card"),
        "department": ("ramp department", "department", "department_name"),
        "type": ("type", "state"),
    },
    decimal_mark=".",
    charge_sign=1,
    # The dashboard export has no currency column: Ramp cards are billed in US dollars.
    currency="USD",
)

EXPENSIFY_CLASSIC = Layout(
    name="expensify",
    title="Expensify Classic",
    signature=(("timestamp",), ("merchant",), ("original amount",), ("original currency",)),
    columns={
        "date": ("timestamp",),
        "descriptor": ("merchant",),
        "memo": ("comment", "description"),
        "amount": ("original amount",),
        "currency": ("original currency",),
    },
    decimal_mark=".",
    charge_sign=1,
    claims=True,
)

EXPENSIFY_NEW = Layout(
    name="expensify_new",
    title="New Expensify",
    signature=(("date",), ("merchant",), ("amount",), ("currency",), ("from",)),
    columns={
        "date": ("date",),
        "descriptor": ("merchant",),
        "memo": ("description",),
        "amount": ("amount",),
        "currency": ("currency",),
        "cardholder": ("from",),
        "type": (),
    },
    charge_sign=1,
    claims=True,
)

CONCUR = Layout(
    name="concur",
    title="SAP Concur",
    signature=(
        ("expense type", "report entry expense type name"),
        ("vendor", "vendor description", "vendor name", "report entry vendor description", "report entry vendor name"),
        ("transaction date", "report entry transaction date"),
        (
            "transaction amount", "amount", "expense amount", "approved amount", "report entry transaction amount",
            "report entry posted amount", "journal amount",
        ),
    ),
    columns={
        "date": ("transaction date", "report entry transaction date"),
        "descriptor": ("vendor description", "vendor", "vendor name", "report entry vendor description", "report entry vendor name"),
        "memo": ("comment", "business purpose", "description", "report entry description"),
        "amount": (
            "transaction amount", "amount", "expense amount", "approved amount", "report entry transaction amount",
            "report entry posted amount", "journal amount",
        ),
        "currency": (
            "transaction currency", "transaction currency code", "currency", "currency code", "report entry currency alpha iso code",
            "reimbursement currency", "report reimbursement currency alpha iso code",
        ),
        "cardholder": ("employee", "employee name", "report owner"),
        "cardholder_parts": ("employee first name", "employee last name"),
        "department": ("department", "org unit 1", "cost center", "cost centre"),
    },
    charge_sign=1,
    claims=True,
)

# The Standard Accounting Extract has no header row: sae.py finds its fields by column number
# and hands the rows on with the fields in the order of its own column map.
CONCUR_SAE = Layout(
    name="concur_sae",
    title="SAP Concur Standard Accounting Extract",
    signature=(),
    columns={},
    decimal_mark=".",
    charge_sign=1,
    non_charge_types=frozenset({"further journal line", "no expense entry", "personal"}),
    left_out_words={
        "further journal line": (
            "further journal line of an expense entry already counted (an allocation or settlement)",
            "further journal lines of expense entries already counted (allocations and settlements)",
        ),
        "no expense entry": ("journal line of no expense entry, such as a cash advance", "journal lines of no expense entry, such as cash advances"),
        "personal": ("line of an entry marked personal", "lines of entries marked personal"),
    },
    claims=True,
)

GENERIC = Layout(
    name="generic",
    title="generic card export",
    signature=(GENERIC_DATES, GENERIC_DESCRIPTORS),
    columns={
        "date": GENERIC_DATES,
        "descriptor": GENERIC_DESCRIPTORS,
        "memo": ("memo", "notes", "note", "extended details", "additional information", "reference text"),
        "amount": ("amount", "transaction amount", "billing amount", "amount in account currency"),
        "debit": ("debit", "debit amount", "withdrawal", "withdrawals", "money out", "paid out"),
        "credit": ("credit", "credit amount", "deposit", "deposits", "money in", "paid in"),
        "currency": ("currency", "currency code", "transaction currency", "billing currency"),
        "cardholder": GENERIC_CARDHOLDERS,
        "card": GENERIC_CARDS,
        "department": ("department", "cost center", "cost centre", "team"),
        "type": ("type", "transaction type"),
    },
)

# Most specific first: the generic layout recognises almost any export with a date and a
# description, so it is tried last.
LAYOUTS = (AMEX_UK, AMEX_US, BREX, RAMP, EXPENSIFY_CLASSIC, EXPENSIFY_NEW, CONCUR, GENERIC)
# Every layout a config may name. The extract is recognised by its first line, not by a header row.
LAYOUT_NAMES = (*(layout.name for layout in LAYOUTS), CONCUR_SAE.name)


def header_key(text: object) -> str:
    """Return the form headers are compared in: lower case, no byte-order mark, single spaces."""
    return " ".join(str(text or "").replace("\ufeff", "").strip().strip('"').lower().split())


def layout_by_name(name: str) -> Layout:
    for layout in (*LAYOUTS, CONCUR_SAE):
        if layout.name == name:
            return layout
    raise KeyError(name)


def recognise(headers: list[str], mapping: dict[str, tuple[str | int, ...]] | None, forced: str | None) -> tuple[Layout, ColumnMap] | None:
    """Recognise a header row: return its layout and column positions, or None.

    `forced` is a layout name from the config. `mapping` maps fields to header names or column
    numbers from the config and wins over the layout's own names.
    """
    keys = [header_key(header) for header in headers]
    candidates = (layout_by_name(forced),) if forced else LAYOUTS
    for layout in candidates:
        # A forced layout, and the generic one under a column mapping, need no signature because
        # the config names the columns.
        needs_signature = not forced and not (mapping and layout is GENERIC)
        if needs_signature and not _signature_present(layout, keys):
            continue
        columns = _column_map(layout, headers, keys, mapping or {})
        if columns is not None:
            return layout, columns
    return None


def missing_columns(layout: Layout, headers: list[str], mapping: dict[str, tuple[str | int, ...]] | None) -> list[str]:
    """List the fields a header row lacks for `layout` (with `mapping`), for an error message."""
    keys = [header_key(header) for header in headers]
    mapping = mapping or {}

    def lacks(name: str) -> str | None:
        mapped = mapping.get(name)
        found = _mapped_positions(keys, mapped) if mapped else _positions(keys, layout.columns.get(name, ()), several=False)
        if found:
            return None
        expected = mapped or layout.columns.get(name, ())
        return f"{CONFIG_KEYS.get(name, name)} ({' or '.join(map(_column_words, expected)) or 'not mapped'})"

    missing = [problem for problem in (lacks("date"), lacks("descriptor")) if problem]
    # The amount is one column, or debit and credit columns.
    amount = lacks("amount")
    split = [problem for problem in (lacks("debit"), lacks("credit")) if problem]
    if amount and mapping.get("amount"):
        missing.append(amount)
    elif amount and split:
        missing.extend(split if mapping.get("debit") or mapping.get("credit") else [amount])
    return missing


def missing_mapped_columns(headers: list[str], mapping: dict[str, tuple[str | int, ...]]) -> list[str]:
    """List the columns the config maps that a header row lacks, by the config's own key, such
    as `department (Dept)`, for an error message."""
    keys = [header_key(header) for header in headers]
    missing = []
    for name, columns in mapping.items():
        absent = [column for column in columns if not _mapped_positions(keys, (column,))]
        if absent:
            missing.append(f"{CONFIG_KEYS.get(name, name)} ({' and '.join(map(_column_words, absent))})")
    return missing


def _column_words(column: str | int) -> str:
    return f"column {column}" if isinstance(column, int) else column


def _signature_present(layout: Layout, keys: list[str]) -> bool:
    present = set(keys)
    return all(any(name in present for name in group) for group in layout.signature)


def _column_map(layout: Layout, headers: list[str], keys: list[str], mapping: dict[str, tuple[str | int, ...]]) -> ColumnMap | None:
    positions: dict[str, tuple[int, ...]] = {}
    header_currency = None
    for name in FIELDS:
        mapped = mapping.get(name)
        if mapped:
            found = _mapped_positions(keys, mapped)
            if len(found) < len(mapped):
                return None
        else:
            found = _positions(keys, layout.columns.get(name, ()), several=name in MULTI_FIELDS)
        if name in AMOUNT_FIELDS:
            if not found and not mapped:
                found = _positions_with_currency(keys, layout.columns.get(name, ()))
            header_currency = header_currency or _header_currency(keys, found)
        if found:
            positions[name] = found

    if "date" not in positions or "descriptor" not in positions:
        return None
    if "amount" not in positions and not ("debit" in positions and "credit" in positions):
        return None
    header_names = {name: tuple(headers[index] for index in found) for name, found in positions.items()}
    return ColumnMap(positions, header_names, header_currency, len(headers))


def _mapped_positions(keys: list[str], mapped: tuple[str | int, ...]) -> tuple[int, ...]:
    """Find the columns a config names, by header name or by number (1 is the first column)."""
    found = []
    for column in mapped:
        if isinstance(column, int):
            if 1 <= column <= len(keys):
                found.append(column - 1)
        elif header_key(column) in keys:
            found.append(keys.index(header_key(column)))
    return tuple(found)


def _positions(keys: list[str], wanted: tuple[str, ...], several: bool) -> tuple[int, ...]:
    found = []
    for name in wanted:
        if name in keys:
            found.append(keys.index(name))
            if not several:
                break
    return tuple(found)


def _positions_with_currency(keys: list[str], wanted: tuple[str, ...]) -> tuple[int, ...]:
    """Find an amount column whose header also names its currency, such as `Amount (EUR)`."""
    for index, key in enumerate(keys):
        match = _CURRENCY_SUFFIX.match(key)
        if match and match[1] in wanted:
            return (index,)
    return ()


def _header_currency(keys: list[str], found: tuple[int, ...]) -> str | None:
    """Return the currency an amount column's header names, such as EUR in `Betrag (EUR)`."""
    for index in found:
        match = _CURRENCY_SUFFIX.match(keys[index])
        if match and is_currency_code(match[2]):
            return match[2].upper()
    return None
