"""The `shadowmap` command line.

Exit status: 0 when the run is fine, 1 when unsuppressed findings reach --fail-on, 2 for a usage
or input error, which is always one line on stderr (a traceback before it only with --debug), 3
for an internal error (a bug: please report it with the --debug output).
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console

from collectors import build_collectors, family_modules
from rules import all_rules
from scanner import __version__
from scanner.config import AuditConfig, load_config
from scanner.engine import AuditRun, run_audit
from scanner.errors import InputError
from scanner.model import OutcomeStatus, Severity
from scanner.cli_options import (
    EXIT_BROKEN_PIPE,
    EXIT_FINDINGS,
    EXIT_INTERNAL_ERROR,
    first_problem,
    held_warnings,
    SEVERITY_NAMES,
    Settings,
    common_options,
)
from scanner.progress import terminal_progress
from scanner.store import HistoryStore, default_store_path, diff_results, environment_store_path

log = logging.getLogger("shadowmap.cli")

def _store_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--store",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="SQLite history store (default: SHADOWMAP_STORE, the config's history.path, or the user data folder).",
    )(command)


class ShadowmapGroup(click.Group):
    """Catches errors no command expected, so users see one line unless they pass --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            # The reader stopped early (`shadowmap history | head`): not an error of ours. Point
            # stdout at /dev/null so that flushing it at exit cannot fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as error:  # noqa: BLE001 - the last line of defence before a traceback
            if "--debug" in sys.argv:
                raise
            click.echo(
                f"shadowmap: internal error: {type(error).__name__}: {error} (run again with --debug for the traceback)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL_ERROR)


@click.group(cls=ShadowmapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shadowmap")
def main() -> None:
    """Find the AI usage an organisation cannot attribute, and say why."""


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path), help="Audit config (YAML).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for report.json and report.html (default: the config's output.dir, else ./shadowmap-out).")
@click.option("--fail-on", type=click.Choice(SEVERITY_NAMES, case_sensitive=False), help="Exit 1 when an unsuppressed finding has this severity or higher.")
@click.option("--fail-on-partial", is_flag=True, help="Exit 2 when a source could not see everything it was configured to read (the reports are still written).")
@click.option("--no-history", is_flag=True, help="Do not store this run in the history store.")
@_store_option
@common_options
def scan(
    config_path: Path, out_dir: Path | None, fail_on: str | None, fail_on_partial: bool, no_history: bool, store: Path | None, settings: Settings
) -> None:
    """Run an audit as the config describes and write its reports."""
    config = load_config(config_path)
    collectors = build_collectors(config)
    if not collectors:
        raise InputError(f"{config_path}: no sources configured; add at least one under sources:")

    out_dir = out_dir or config.output_dir or Path("shadowmap-out")
    run = _run_and_report(config, collectors, out_dir, settings, store, no_history, label="scan")
    if fail_on_partial and not run.inventory.complete:
        partial = [outcome for outcome in run.inventory.outcomes if outcome.status is not OutcomeStatus.OK]
        raise InputError(
            f"the run is partial ({len(partial)} of {len(run.inventory.outcomes)} collectors could not see everything), "
            f"first: {first_problem(partial)}; {out_dir / 'report.json'} lists what each collector could not see"
        )
    _exit_for(run, fail_on)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("shadowmap-demo"), show_default=True, help="Folder for report.json and report.html.")
@click.option("--no-history", is_flag=True, help="Do not store this run in the history store.")
@_store_option
@common_options
def demo(out_dir: Path, no_history: bool, store: Path | None, settings: Settings) -> None:
    """Audit the bundled demo organisation, offline, and write its reports."""
    from fixtures import demo_config_path

    config = load_config(demo_config_path())
    run = _run_and_report(config, build_collectors(config), out_dir, settings, store, no_history, label="demo")
    _exit_for(run, None)


def _run_and_report(
    config: AuditConfig,
    collectors: list,
    out_dir: Path,
    settings: Settings,
    store: Path | None,
    no_history: bool,
    label: str,
) -> AuditRun:
    from reports.html import write_html
    from reports.json_report import write_json
    from reports.terminal import render_summary

    with held_warnings() as held, terminal_progress(enabled=not settings.quiet) as progress:
        run = run_audit(config, collectors, progress=progress, label=label)

    outcomes = run.inventory.outcomes
    if all(outcome.status is OutcomeStatus.FAILED for outcome in outcomes):
        problem = first_problem(outcomes)
        held.emit_held(skip=problem)
        raise InputError(problem)
    held.emit_held()

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        result = write_json(run, out_dir / "report.json")
        write_html(result, out_dir / "report.html")
    except OSError as error:
        raise InputError(f"{out_dir}: cannot write the reports ({error.strerror}); pass a writable --out") from None

    if not no_history:
        # The order the --store help gives: the option, SHADOWMAP_STORE, history.path, the default.
        store_path = store or environment_store_path() or config.history_path or default_store_path()
        with HistoryStore(store_path) as history:
            history.save(result)

    if not settings.quiet:
        console = Console(stderr=False)
        render_summary(result, console)
        click.echo(f"Reports: {out_dir / 'report.json'} and {out_dir / 'report.html'}")
    return run


def _exit_for(run: AuditRun, fail_on: str | None) -> None:
    if fail_on is None:
        return
    threshold = Severity.parse(fail_on)
    if any(f.severity >= threshold and f.suppression is None for f in run.findings):
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("run", default="latest")
@click.option("--format", "output_format", type=click.Choice(["html", "json", "text"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of standard output.")
@_store_option
@common_options
def report(run: str, output_format: str, output: Path | None, store: Path | None, settings: Settings) -> None:
    """Render a stored run (an id, a prefix of one, or `latest`) or a report.json file again."""
    from reports.html import render_html
    from reports.json_report import dumps_result
    from reports.terminal import render_summary

    result = _load_result(run, store)
    if output_format == "json":
        text = dumps_result(result)
    elif output_format == "html":
        text = render_html(result)
    elif output:
        console = Console(file=io.StringIO(), record=True, color_system=None, width=100)
        render_summary(result, console)
        text = console.export_text()
    else:
        render_summary(result, Console())
        text = ""

    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"{output}: cannot write the report ({error.strerror}); pass a writable --output") from None
    elif text:
        click.echo(text, nl=False)


@main.command()
@click.argument("before", required=False)
@click.argument("after", required=False)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_store_option
@common_options
def diff(before: str | None, after: str | None, output_format: str, store: Path | None, settings: Settings) -> None:
    """Compare two runs: new, fixed and unchanged findings and the coverage change.

    BEFORE and AFTER are run ids, unique prefixes of them, `latest`, or report.json files. With
    none, the latest run is compared with the run of the same config before it.
    """
    if after is None and before is not None:
        raise InputError("name both runs to compare, or neither to compare the latest with the one before it")

    if before is None:
        with HistoryStore(store or default_store_path(), create=False) as history:
            after_id = history.resolve("latest")
            before_id = history.previous_of(after_id)
            before_result, after_result = history.load(before_id), history.load(after_id)
    else:
        before_result, after_result = _load_result(before, store), _load_result(after, store)

    run_diff = diff_results(before_result, after_result)
    if output_format == "json":
        click.echo(json.dumps(run_diff.to_dict(), indent=2, sort_keys=True))
        return

    from reports.diff import render_diff

    render_diff(
        run_diff,
        Console(),
        before_complete=before_result["run"]["complete"],
        after_complete=after_result["run"]["complete"],
    )


@main.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to list, newest first.")
@_store_option
@common_options
def history(limit: int, store: Path | None, settings: Settings) -> None:
    """List the runs in the history store, newest first."""
    store_path = store or default_store_path()
    runs = []
    if store_path.is_file():
        with HistoryStore(store_path, create=False) as history_store:
            runs = history_store.runs(limit)
    if not runs:
        click.echo(f"No runs in {store_path} yet.")
        return
    for stored in runs:
        state = "complete" if stored.complete else "partial"
        click.echo(f"{stored.id}  {stored.label:<5}  {stored.started_at}  {state:<8}  {stored.organisation}")


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path), help="Audit config (YAML) naming live sources.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write the snapshot into, one subfolder per source family.")
@click.option("--only", "families", multiple=True, help="Record only this source family (repeatable), such as aws.")
@common_options
def snapshot(config_path: Path, out_dir: Path, families: tuple[str, ...], settings: Settings) -> None:
    """Record the live API responses of the configured sources as a snapshot folder.

    A later `shadowmap scan` whose config points a family's `snapshot` setting at the recorded
    subfolder reads back the same inventory, offline.
    """
    config = load_config(config_path)
    recorders = {
        module.__name__.rsplit(".", 1)[1]: module.record_snapshot
        for module in family_modules()
        if hasattr(module, "record_snapshot") and module.__name__.rsplit(".", 1)[1] in config.sources
    }
    unknown = sorted(set(families) - set(recorders))
    if unknown:
        raise InputError(f"--only {unknown[0]}: no live source of that family in {config_path}; families here: {', '.join(sorted(recorders)) or 'none'}")
    if not recorders:
        raise InputError(f"{config_path}: no live source that can be recorded; configure aws, azure, gcp, openai or anthropic")

    failed = 0
    for family, record in sorted(recorders.items()):
        if families and family not in families:
            continue
        outcome = record(config, out_dir / family, logging.getLogger(f"shadowmap.collector.{family}"))
        outcome.settle()
        failed += outcome.status is OutcomeStatus.FAILED
        if not settings.quiet:
            click.echo(f"{family}: {outcome.status.value}, {len(outcome.scopes_seen)} scopes recorded in {out_dir / family}")
            for gap in outcome.scopes_not_seen:
                click.echo(f"  not recorded: {gap.scope}: {gap.reason}")
    if failed == len(recorders):
        raise InputError("no source could be recorded; see the lines above")


@main.group()
def rules() -> None:
    """Inspect the rule pack."""


@rules.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@common_options
def rules_list(output_format: str, settings: Settings) -> None:
    """List every rule with its severity and what it checks."""
    pack = all_rules()
    if output_format == "json":
        click.echo(json.dumps([rule.to_dict() for rule in pack], indent=2))
        return
    width = max(len(rule.id) for rule in pack)
    for rule in pack:
        click.echo(f"{rule.id:<{width}}  {rule.severity.label:<8}  {rule.title}")


def _add_family_commands() -> None:
    """Add the commands source families bring, such as `shadowmap code`."""
    for module in family_modules():
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_add_family_commands()


def _load_result(reference: str, store: Path | None) -> dict[str, Any]:
    """Load a result from a report.json path or from the history store by run reference."""
    from reports.json_report import load_result

    candidate = Path(reference)
    if candidate.suffix == ".json" or candidate.is_file():
        return load_result(candidate)
    with HistoryStore(store or default_store_path(), create=False) as history_store:
        return history_store.load(history_store.resolve(reference))
