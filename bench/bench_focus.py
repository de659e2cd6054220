"""Time the FOCUS collector and measure its peak memory on synthetic exports of millions of rows.

Run by hand, never by the tests:

    python bench/bench_focus.py --rows 5000000

The script writes a FOCUS 1.2-shaped CSV, a gzip CSV and a Parquet file of `--rows` rows into
`--workdir` and deletes them afterwards unless `--keep`. It then reads each file with
`FocusCollector` in a fresh Python process, so the peak resident memory it prints belongs to
that read alone. `--formats` picks fewer formats, and `--distinct-tags` the worst case of one
spend line per AI row.

One row in ten is AI spend: Bedrock, and a Bedrock marketplace model, both filed under "Other".
They are hourly rows of 400 resources in 40 accounts over 30 days, with two usage units, 20
teams and two currencies, and group into a few thousand spend lines. The other rows are EC2 and
S3.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# One synthetic FOCUS row per value of `i`. Costs have 11 decimal places, like the FinOps
# Foundation sample.
SYNTHETIC_ROWS_SQL = """
SELECT
  'AWS' AS ProviderName,
  CASE WHEN i % 20 = 0 THEN 'Anthropic' ELSE 'Amazon Web Services, Inc.' END AS PublisherName,
  'Amazon Web Services, Inc.' AS InvoiceIssuerName,
  '123456789012' AS BillingAccountId,
  'acct-' || (i // 10 % 400 % 40) AS SubAccountId,
  CASE WHEN i % 10 = 0 THEN 'Other' ELSE 'Compute' END AS ServiceCategory,
  CASE WHEN i % 10 = 0 THEN 'Other (Other)' ELSE 'Virtual Machines' END AS ServiceSubcategory,
  CASE
    WHEN i % 20 = 0 THEN 'Claude 3.5 Sonnet (Amazon Bedrock Edition)'
    WHEN i % 10 = 0 THEN 'Amazon Bedrock'
    WHEN i % 3 = 0 THEN 'Amazon Simple Storage Service'
    ELSE 'Amazon Elastic Compute Cloud'
  END AS ServiceName,
  'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p' || (i // 10 % 400) AS ResourceId,
  'profile-' || (i // 10 % 400) AS ResourceName,
  'us-east-1' AS RegionId,
  CASE WHEN i // 10 % 400 % 40 >= 35 THEN 'EUR' ELSE 'USD' END AS BillingCurrency,
  strftime(TIMESTAMP '2025-06-01' + to_hours(i % 720), '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
  strftime(TIMESTAMP '2025-06-01' + to_hours(i % 720 + 1), '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
  'Usage' AS ChargeCategory,
  'Usage-Based' AS ChargeFrequency,
  printf('%.11f', (i % 100000) / 99991.0) AS BilledCost,
  printf('%.11f', (i % 100000) / 99991.0) AS EffectiveCost,
  printf('%.11f', (i % 100000) / 89989.0) AS ListCost,
  printf('%.6f', (i % 5000) * 1.5) AS ConsumedQuantity,
  CASE WHEN i // 4000 % 2 = 0 THEN 'Input Tokens' ELSE 'Output Tokens' END AS ConsumedUnit,
  'SKU' || (i % 50) AS SkuId,
  '{"team": "team-' || (i // 10 % 400 % 20) || '", "environment": "prod"' || {request_tag} || '}' AS Tags
FROM range({rows}) AS rows(i)
"""

# With --distinct-tags every row carries its own request tag, so every AI row becomes a spend line
# of its own: the worst case for the Python side of the collector.
REQUEST_TAG_SQL = """', "request": "' || i || '"'"""

FORMATS = {
    "csv": ("focus.csv", "(FORMAT csv, HEADER)"),
    "csv.gz": ("focus.csv.gz", "(FORMAT csv, HEADER, COMPRESSION gzip)"),
    "parquet": ("focus.parquet", "(FORMAT parquet)"),
}


def generate(rows: int, workdir: Path, formats: list[str], distinct_tags: bool) -> list[Path]:
    """Write the synthetic export in each format and return the paths."""
    query = SYNTHETIC_ROWS_SQL.replace("{rows}", str(int(rows)))
    query = query.replace("{request_tag}", REQUEST_TAG_SQL if distinct_tags else "''")
    paths = []
    with duckdb.connect(":memory:") as connection:
        for name in formats:
            file_name, options = FORMATS[name]
            path = workdir / file_name
            connection.execute(f"COPY ({query}) TO '{path}' {options}")
            paths.append(path)
    return paths


def measure(path: Path) -> dict[str, object]:
    """Read one export with the collector and return the time, peak memory and what it found."""
    from collectors.billing.focus import FocusCollector
    from collectors.contract import CollectContext
    from scanner.config import AuditConfig, FocusSource

    config = AuditConfig(path=None, base_dir=path.parent)
    collector = FocusCollector([FocusSource(path.name)], config)
    context = CollectContext(logger=logging.getLogger("bench"))

    started = time.perf_counter()
    result = collector.collect(context)
    seconds = time.perf_counter() - started

    return {
        "file": path.name,
        "megabytes": round(path.stat().st_size / 1e6, 1),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_resident_kilobytes() / 1024, 1),
        "spend_lines": len(result.spend_lines),
        "status": result.outcome.status.value,
    }


def peak_resident_kilobytes() -> int:
    """Return this process's peak resident memory in KiB.

    Linux's VmHWM starts afresh at exec, whereas ru_maxrss keeps the peak of the parent that
    forked this process, which here includes generating the data.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_measurement(path: Path) -> dict[str, object]:
    """Measure in a child process so that the peak memory excludes generating the data."""
    command = [sys.executable, __file__, "--measure", str(path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows per synthetic export")
    parser.add_argument("--workdir", type=Path, help="folder for the exports (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated exports")
    parser.add_argument(
        "--formats",
        default="csv,csv.gz,parquet",
        help="comma-separated formats to write and read: csv, csv.gz, parquet (default: all three)",
    )
    parser.add_argument(
        "--distinct-tags",
        action="store_true",
        help="give every row its own tag value, so that every AI row becomes its own spend line",
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.measure:
        print(json.dumps(measure(arguments.measure)))
        return

    created_workdir = arguments.workdir is None
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="shadowmap-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    formats = [name.strip() for name in arguments.formats.split(",")]
    try:
        started = time.perf_counter()
        paths = generate(arguments.rows, workdir, formats, arguments.distinct_tags)
        print(f"generated {arguments.rows:,} rows per file in {time.perf_counter() - started:.1f} s in {workdir}")
        for path in paths:
            print(json.dumps(run_measurement(path)))
    finally:
        if not arguments.keep:
            remove_exports(workdir, formats, created_workdir)


def remove_exports(workdir: Path, formats: list[str], created_workdir: bool) -> None:
    """Delete the generated exports, and the folder too when this script created it."""
    if created_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for name in formats:
        (workdir / FORMATS[name][0]).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
