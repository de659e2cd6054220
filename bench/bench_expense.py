"""Time the expense reader on a synthetic card export of a million rows and measure its peak
memory.

Run by hand, never by the tests:

    python bench/bench_expense.py --rows 1000000

The script writes American Express-shaped CSVs (US layout: Date, Description, Card Member,
Account #, Amount, Extended Details, ...) into `--workdir`, deleted afterwards unless `--keep` is
given. It reads each file with the expense collector's reader in a fresh Python process, so that
the peak resident memory printed belongs to that read alone.

Two sizes (a tenth of `--rows`, and `--rows`) show whether memory stays flat as rows grow. They
run first with one row in 50 an AI charge (a dozen vendors, including processor and app-store
forms), then with no AI charge at all, which separates the memory the kept AI charges take from
the memory of reading. The other rows are drawn from 50,000 distinct merchant descriptors with
store numbers, so the descriptor cache misses as it does on real exports.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "Date", "Description", "Card Member", "Account #", "Amount", "Extended Details",
    "Appears On Your Statement As", "Address", "City/State", "Zip Code", "Country", "Reference", "Category",
]
AI_DESCRIPTORS = [
    ("OPENAI *CHATGPT SUBSCR", ""), ("OPENAI", ""), ("ANTHROPIC", ""), ("CLAUDE.AI SUBSCRIPTION", ""),
    ("MIDJOURNEY INC.", ""), ("CURSOR, AI POWERED IDE", ""), ("GITHUB COPILOT", ""), ("PERPLEXITY.AI", ""),
    ("PADDLE.NET* MIDJOURNEY", ""), ("APPLE.COM/BILL", "Claude Pro monthly"), ("ELEVENLABS.IO", ""),
    ("MISTRAL AI PARIS", ""),
]
OTHER_WORDS = [
    "STARBUCKS", "SHELL OIL", "UBER TRIP", "DELTA AIR LINES", "AIR CANADA", "OPENTABLE", "HERTZ RENT-A-CAR",
    "THAI KITCHEN", "OPEN STREET PARKING", "MAILCHIMP", "CLAUDE'S BISTRO", "WHOLE FOODS", "STAPLES",
    "AMAZON WEB SERVICES", "ZOOM.US", "SLACK TECHNOLOGIES", "HILTON HOTELS", "LYFT RIDE", "FEDEX", "COSTCO WHSE",
]
PEOPLE = [f"CARDHOLDER {number:03d}" for number in range(400)]


def write_export(path: Path, rows: int, ai_every: int = 50, seed: int = 7) -> None:
    """Write an Amex-shaped CSV of `rows` data rows, one in `ai_every` an AI charge (none when
    `ai_every` is 0)."""
    rng = random.Random(seed)
    others = [f"{rng.choice(OTHER_WORDS)} #{number:05d} {rng.choice(['AUSTIN TX', 'BERLIN', 'NEW YORK NY', 'SEATTLE WA'])}" for number in range(50_000)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            day = 1 + index % 28
            if ai_every and index % ai_every == 0:
                descriptor, memo = AI_DESCRIPTORS[index // ai_every % len(AI_DESCRIPTORS)]
            else:
                descriptor, memo = others[rng.randrange(len(others))], ""
            amount = f"{rng.randrange(100, 250_000) / 100:.2f}"
            person = PEOPLE[index % len(PEOPLE)]
            writer.writerow([
                f"11/{day:02d}/2026", descriptor, person, f"-4{index % 400:04d}", amount, memo or descriptor,
                descriptor, "1 MAIN ST", "AUSTIN TX", "78701", "UNITED STATES", f"'3202633{index:011d}'", "Business Services",
            ])


def measure(path: Path) -> dict:
    """Read `path` in a fresh process and return its wall and CPU time, peak memory and counts.

    The CPU time is the reading process's own, which other load on the machine inflates less
    than the wall time.
    """
    code = f"""
import json, resource, time
from pathlib import Path
from collectors.expense.catalogue import load_catalogue
from collectors.expense.review import review_exports
from collectors.expense.settings import BurstSettings, FileSettings
catalogue = load_catalogue()
start = time.perf_counter()
cpu_start = time.process_time()
review = review_exports([(Path({str(path)!r}), FileSettings(), "bench.csv")], catalogue, BurstSettings())
seconds = time.perf_counter() - start
cpu_seconds = time.process_time() - cpu_start
reading = review.files[0]
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": reading.row_count, "charges": len(reading.charges), "bad_rows": reading.bad_row_count,
                  "error": reading.error}}))
"""
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows of the larger export (default 1,000,000).")
    parser.add_argument("--workdir", type=Path, default=None, help="Folder for the synthetic exports (default: a temporary folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the synthetic exports.")
    arguments = parser.parse_args()

    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="shadowmap-bench-expense-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for ai_every in (50, 0):
            for rows in (arguments.rows // 10, arguments.rows):
                path = workdir / f"amex-{rows}-{ai_every}.csv"
                started = time.perf_counter()
                write_export(path, rows, ai_every)
                written = time.perf_counter() - started
                figures = measure(path)
                size_mib = path.stat().st_size / 1024 / 1024
                print(
                    f"{rows:>9,} rows ({size_mib:,.0f} MiB, written in {written:.1f} s): read in {figures['seconds']:.2f} s "
                    f"({figures['cpu_seconds']:.2f} s of CPU), peak RSS {figures['peak_rss_mib']:,.0f} MiB, "
                    f"{figures['charges']:,} AI charges, {figures['bad_rows']} bad rows",
                    flush=True,
                )
                path.unlink()
    finally:
        if not arguments.keep and arguments.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
