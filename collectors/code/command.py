"""`shadowmap code`: the pre-merge check for AI keys and unattributed AI calls in code.

Only click is imported here, because the CLI imports every source family at start-up; the scan
itself lives in collectors/code/check.py and is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

SEVERITY_CHOICES = ["info", "low", "medium", "high", "critical", "none"]


@click.command("code")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "sarif", "cyclonedx", "baseline"]), default="text", show_default=True,
    help="text for people, json for the complete result, sarif for code-scanning UIs, cyclonedx for a CycloneDX 1.6 AI-BOM, baseline for a detect-secrets baseline of the keys found.",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this file instead of standard output.")
@click.option(
    "--fail-on", type=click.Choice(SEVERITY_CHOICES, case_sensitive=False), default="high", show_default=True,
    help="Exit 1 when an unsuppressed finding has this severity or higher; none never fails.",
)
@click.option("--diff-base", metavar="REF", help="Report only lines added since the merge base with REF, such as origin/main.")
@click.option("--history", "history_range", metavar="RANGE", help="Scan the lines added by the commits of a git revision range, such as main~50..main.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="A detect-secrets baseline; keys it lists for the same file are not reported.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="An audit config whose sources.code settings, policy and suppressions apply.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the report.")
@click.option("--verbose", "-v", is_flag=True, help="Log one line per scanned path.")
@click.option("--debug", is_flag=True, help="Log everything and show tracebacks of errors.")
def code(paths: tuple[Path, ...], output_format: str, output: Path | None, fail_on: str, diff_base: str | None,
         history_range: str | None, baseline: Path | None, config_path: Path | None, quiet: bool, verbose: bool, debug: bool) -> None:
    """Find AI provider keys, AI SDK calls that break cost attribution, and the AI inventory
    (packages, Terraform resources, .env settings, MCP servers) in PATHS (default: the current
    folder).

    Inside a git work tree .gitignore applies; vendored folders and binary files are skipped;
    notebooks are read as they are stored. Exit status: 0 when no finding reaches --fail-on, 1 when
    one does, 2 for a usage or input error.
    """
    from collectors.code.check import run_code_check

    run_code_check(
        paths=paths, output_format=output_format, output=output, fail_on=fail_on, diff_base=diff_base,
        history_range=history_range, baseline=baseline, config_path=config_path, quiet=quiet, verbose=verbose, debug=debug,
    )
