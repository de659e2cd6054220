"""`shadowmap expenses FILE...`: list the AI charges in card and expense exports.

Exit status: 0 when every file was read (bad rows inside a file are reported, not fatal). 2 when
the command is used wrongly, the config is invalid or a file cannot be read at all. The output
still covers the files that could be read, and each unreadable file gets one line on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli_options import EXIT_INPUT_ERROR, Settings, common_options


@click.command("expenses")
@click.argument("files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for a person, json for the complete result, csv for one line per AI charge.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Audit config (YAML): its policy.sanctioned_vendors marks charges, its sources.expense settings say how to read the files.",
)
@common_options
def expenses(files: tuple[Path, ...], output_format: str, config_path: Path | None, settings: Settings) -> None:
    """Find the AI charges in card and expense exports (CSV or XLSX).

    Reads American Express, Brex, Ramp, Expensify and SAP Concur exports and generic card CSVs,
    recognised by their header row, and prints every charge from an AI vendor with its kind
    (seat, api_credit or unknown) and confidence.
    """
    _run(files, output_format, config_path)


def _run(files: tuple[Path, ...], output_format: str, config_path: Path | None) -> None:
    from collectors.expense.catalogue import load_catalogue  # noqa: PLC0415
    from collectors.expense.output import render_csv, render_json, render_text  # noqa: PLC0415
    from collectors.expense.review import review_exports  # noqa: PLC0415
    from collectors.expense.settings import parse_settings  # noqa: PLC0415
    from scanner.config import load_config  # noqa: PLC0415
    from scanner.errors import InputError  # noqa: PLC0415

    config = load_config(config_path) if config_path else None
    settings = parse_settings(config.sources.get("expense") if config else None)
    base_dir = config.base_dir if config else Path.cwd()
    sanctioned = config.policy.sanctioned_vendors if config and config.policy.sanctioned_vendors else None

    exports = [(path, settings.for_path(path, base_dir), str(path)) for path in files]
    review = review_exports(exports, load_catalogue(), settings.burst)

    unreadable = review.unreadable
    if len(unreadable) == len(review.files):
        first = unreadable[0]
        more = len(unreadable) - 1
        others = f" (and {more} more {'file' if more == 1 else 'files'})" if more else ""
        raise InputError(f"{first.location}: {first.error}{others}")

    render = {"json": render_json, "csv": render_csv, "text": render_text}[output_format]
    click.echo(render(review, sanctioned), nl=False)
    for reading in unreadable:
        click.echo(f"shadowmap: error: {reading.location}: {reading.error}", err=True)
    if unreadable:
        sys.exit(EXIT_INPUT_ERROR)
