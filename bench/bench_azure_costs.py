"""Benchmark reading an Azure Cost Management export (EA cost details) with the azure.costs reader.

Generates a synthetic EA-shaped export with DuckDB: one row in ten is an Azure OpenAI charge (per
token in three directions, and PTU hours), spread over 30 days, 20 accounts and 4 tag sets, which
group into at most 9,600 spend lines; the rest are ordinary virtual machine and storage rows. Then it reads each file with `read_export` in a
fresh process and prints the time and the peak resident memory of that process (Linux VmHWM).

    python bench/bench_azure_costs.py --rows 5000000
    python bench/bench_azure_costs.py --rows 2000000 --formats csv,csv.gz,parquet --keep
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

COLUMNS_SQL = """
SELECT
    'Platform' AS InvoiceSectionName,
    'example.com' AS AccountName,
    printf('00000000-0000-4000-8000-%012d', account % 5) AS SubscriptionId,
    'sub-' || (account % 5) AS SubscriptionName,
    'rg-' || account AS ResourceGroup,
    'SwedenCentral' AS ResourceLocation,
    printf('11/%d/2026', 1 + day) AS Date,
    CASE WHEN ai THEN 'Cognitive Services' WHEN meter % 2 = 0 THEN 'Virtual Machines' ELSE 'Storage' END AS MeterCategory,
    CASE WHEN ai THEN 'Azure OpenAI' ELSE 'General' END AS MeterSubCategory,
    CASE WHEN NOT ai THEN 'D4s v5'
         WHEN meter = 0 THEN 'gpt-4o-0513-Inp-glbl Tokens'
         WHEN meter = 1 THEN 'gpt-4o-0513-Outp-glbl Tokens'
         WHEN meter = 2 THEN 'gpt 4o 0806 cchd Inp glbl Tokens'
         ELSE 'Provisioned Managed Global Hourly' END AS MeterName,
    CASE WHEN ai AND meter = 3 THEN '1 Hour' WHEN ai THEN '1M' ELSE '1 Hour' END AS UnitOfMeasure,
    printf('%.6f', (n % 1000) / 7.0) AS Quantity,
    printf('%.10f', (n % 997) / 13.0) AS CostInBillingCurrency,
    CASE WHEN ai THEN 'Microsoft.CognitiveServices' ELSE 'Microsoft.Compute' END AS ConsumedService,
    CASE WHEN ai THEN printf('/subscriptions/00000000-0000-4000-8000-%012d/resourceGroups/rg-%d/providers/Microsoft.CognitiveServices/accounts/aoai-%d', account % 5, account, account)
         ELSE printf('/subscriptions/00000000-0000-4000-8000-%012d/resourceGroups/rg-%d/providers/Microsoft.Compute/virtualMachines/vm-%d', account % 5, account, n % 500) END AS ResourceId,
    printf('"team": "team-%d","env": "prod"', team) AS Tags,
    'Usage' AS ChargeType,
    'OnDemand' AS PricingModel,
    '' AS ReservationId,
    'EUR' AS BillingCurrencyCode
FROM (
    SELECT n, n % 10 = 0 AS ai, hash(n) % 20 AS account, hash(n + 1) % 30 AS day,
           hash(n + 2) % 4 AS meter, hash(n + 3) % 4 AS team
    FROM range({rows}) t(n)
)
"""

READ_SCRIPT = """
import json, sys, time
from pathlib import Path
from collectors.azure.catalogue import load_catalogue
from collectors.azure.cost_export import read_export
started = time.perf_counter()
read = read_export(Path(sys.argv[1]), load_catalogue().cost_export)
elapsed = time.perf_counter() - started
peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))
print(json.dumps({"seconds": elapsed, "lines": len(read.lines), "ai_rows": read.ai_rows, "peak_kb": peak}))
"""


def generate(rows: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    files = {}
    with duckdb.connect() as connection:
        query = COLUMNS_SQL.format(rows=rows)
        for fmt in formats:
            target = folder / f"ea-{rows}.{fmt}"
            if fmt == "parquet":
                connection.execute(f"COPY ({query}) TO '{target}' (FORMAT PARQUET)")
            elif fmt == "csv.gz":
                connection.execute(f"COPY ({query}) TO '{target}' (FORMAT CSV, HEADER, COMPRESSION GZIP)")
            else:
                connection.execute(f"COPY ({query}) TO '{target}' (FORMAT CSV, HEADER)")
            files[fmt] = target
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated export")
    parser.add_argument("--formats", default="csv,parquet", help="comma-separated: csv, csv.gz, parquet")
    parser.add_argument("--workdir", type=Path, help="folder for the generated files (a temporary one by default)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    arguments = parser.parse_args()

    folder = arguments.workdir or Path(tempfile.mkdtemp(prefix="bench-azure-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        files = generate(arguments.rows, folder, arguments.formats.split(","))
        print("| rows | file | size | spend lines | time | peak memory |")
        print("|---:|---|---:|---:|---:|---:|")
        for fmt, path in files.items():
            output = subprocess.run([sys.executable, "-c", READ_SCRIPT, str(path)], check=True, capture_output=True, text=True).stdout
            figures = json.loads(output)
            size_mb = path.stat().st_size / 1_000_000
            print(
                f"| {arguments.rows:,} | {fmt} | {size_mb:,.0f} MB | {figures['lines']:,} | "
                f"{figures['seconds']:.1f} s | {figures['peak_kb'] / 1000:,.0f} MB |"
            )
    finally:
        if not arguments.keep and arguments.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
