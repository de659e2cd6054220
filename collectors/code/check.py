"""The work behind `shadowmap code`: plan the scopes, run the code collector and the code rules
through the audit engine, write the report and set the exit status."""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import replace
from pathlib import Path

import click

from collectors.code.collector import CodeCollector, Scope
from collectors.code.gitdiff import lines_added_in_history, lines_added_since
from collectors.code.pipeline import Problem, SourceFile
from collectors.code.settings import CodeSettings, code_settings
from collectors.code.walk import is_excluded, walk_target
from collectors.contract import CollectContext
from scanner.cli_options import first_problem, held_warnings
from scanner.config import AuditConfig, load_config
from scanner.errors import InputError
from scanner.model import CollectorResult, OutcomeStatus, Severity, count_text

EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2

# Rules of other families that judge `code.ai_call` assets: the Bedrock modelId of a call in code
# is judged by the same rules as the modelId in invocation logs and bills.
CODE_CALL_RULES = ("aws.bedrock.system-profile-use", "aws.bedrock.foundation-model-use")


def run_code_check(
    paths: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    fail_on: str,
    diff_base: str | None,
    history_range: str | None,
    baseline: Path | None,
    config_path: Path | None,
    quiet: bool,
    verbose: bool,
    debug: bool,
) -> None:
    """Run the check and exit with its status; an InputError becomes one line and status 2."""
    from scanner.cli_options import Settings, configure_logging

    settings = Settings()
    settings.quiet, settings.verbose, settings.debug = quiet, verbose, debug
    configure_logging(settings)
    try:
        status = _check(paths, output_format, output, fail_on, diff_base, history_range, baseline, config_path)
    except InputError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"shadowmap: error: {error}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    sys.exit(status)


def _check(
    paths: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    fail_on: str,
    diff_base: str | None,
    history_range: str | None,
    baseline: Path | None,
    config_path: Path | None,
) -> int:
    from rules import all_rules
    from scanner.engine import run_audit

    if diff_base and history_range:
        raise InputError("--diff-base and --history cannot be combined; pass one of them")
    config = load_config(config_path) if config_path else AuditConfig(path=None, base_dir=Path.cwd(), organisation="shadowmap code")
    settings = code_settings(config)
    if baseline is not None:
        settings = replace(settings, baseline=baseline)
    if not paths:
        paths = tuple(config.resolve(text) for text in settings.paths) or (Path("."),)

    scopes = [_scope(path, settings, diff_base, history_range) for path in paths]
    collector = CodeCollector(settings, scopes, description=f"AI keys, calls and inventory in {', '.join(map(str, paths))}")
    code_rules = [rule for rule in all_rules() if rule.id.startswith("code.") or rule.id in CODE_CALL_RULES]
    # The collector runs here, on the main thread, so its process pool can fork (see
    # collectors/code/pipeline.py); the engine then judges the result it returned.
    with held_warnings() as held:
        collected = collector.collect(CollectContext(logger=logging.getLogger("shadowmap.collector.code")))
        run = run_audit(config, [_Collected(collector, collected)], rules=code_rules, label="code")

    # When nothing could be scanned, the one error line replaces the warnings that led to it.
    if run.inventory.outcomes[0].status is OutcomeStatus.FAILED:
        raise InputError(first_problem(run.inventory.outcomes))
    held.emit_held()

    report = _render(run, collector, output_format)
    _write(report, output)

    # A baseline is written to record the keys found, so finding them is the expected outcome.
    if fail_on.lower() == "none" or output_format == "baseline":
        return 0
    threshold = Severity.parse(fail_on)
    failing = any(finding.severity >= threshold and finding.suppression is None for finding in run.findings)
    return EXIT_FINDINGS if failing else 0


class _Collected:
    """A collector whose result is already known, so the engine can build the run around it."""

    def __init__(self, collector: CodeCollector, result: CollectorResult):
        self.name = collector.name
        self.source = collector.source
        self._description = collector.describe()
        self._result = result

    def describe(self) -> str:
        return self._description

    def collect(self, context: CollectContext) -> CollectorResult:
        return self._result


def _scope(path: Path, settings: CodeSettings, diff_base: str | None, history_range: str | None) -> Scope:
    scope = str(path)
    prefix = _display(path.resolve()) if path.exists() else scope
    if diff_base:
        return Scope(scope, lambda: _diff_sources(path, scope, diff_base, settings), root=path)
    if history_range:
        return Scope(scope, lambda: _history_sources(path, scope, history_range, settings), root=path)

    def load() -> tuple[list[SourceFile], list[Problem]]:
        from collectors.code.github import ScopeUnavailable

        walked = walk_target(path, scope, prefix, settings.walk)
        if not walked.sources and walked.problems and not walked.problems[0].path:
            raise ScopeUnavailable(walked.problems[0].reason)
        return walked.sources, walked.problems

    return Scope(scope, load, root=path)


def _display(absolute: Path) -> str:
    """Return a path as reports show it: relative to the current folder when inside it, so that SARIF
    locations resolve against the checkout; absolute otherwise."""
    try:
        relative = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return str(absolute)
    return "." if str(relative) == "." else relative.as_posix()


def _diff_sources(path: Path, scope: str, base_ref: str, settings: CodeSettings) -> tuple[list[SourceFile], list[Problem]]:
    root, added_files = lines_added_since(path, base_ref)
    sources = []
    for added in added_files:
        if is_excluded(added.path, settings.walk):
            continue
        location = root / added.path
        try:
            size = location.stat().st_size
        except OSError:
            continue
        sources.append(
            SourceFile(scope, _display(location), location=str(location), size=size, added_lines=frozenset(added.lines),
                       repo_path=added.path)
        )
    return sources, []


def _history_sources(path: Path, scope: str, revision_range: str, settings: CodeSettings) -> tuple[list[SourceFile], list[Problem]]:
    root, added_files = lines_added_in_history(path, revision_range)
    sources = []
    for added in added_files:
        if is_excluded(added.path, settings.walk):
            continue
        content = added.content()
        sources.append(SourceFile(scope, _display(root / added.path), content=content, size=len(content), commit=added.commit,
                                  repo_path=added.path))
    return sources, []


def _render(run, collector: CodeCollector, output_format: str) -> str:
    from reports.json_report import build_result, dumps_result

    if output_format == "baseline":
        from collectors.code.baseline import render_baseline

        return render_baseline(collector.occurrences)
    result = build_result(run)
    if output_format == "json":
        return dumps_result(result)
    if output_format == "sarif":
        from reports.sarif import render_sarif

        return render_sarif(result)
    if output_format == "cyclonedx":
        from reports.cyclonedx import render_cyclonedx

        return render_cyclonedx(result)
    return _render_text(run, collector)


def _render_text(run, collector: CodeCollector) -> str:
    lines = []
    ordered = sorted(run.findings, key=lambda f: (-f.severity, f.location.path if f.location else "", f.location.line if f.location else 0))
    for finding in ordered:
        evidence = finding.evidence
        where = f"{finding.location.path}:{finding.location.line}:{finding.location.column}" if finding.location else finding.subject
        commit = f" (commit {evidence['commit'][:12]})" if evidence.get("commit") else ""
        suppressed = " [suppressed]" if finding.suppression else ""
        if "redacted" in evidence:
            lines.append(
                f"{where}: {finding.severity.label}: {evidence.get('label')} {evidence.get('redacted')} is written in plain text in this file"
                f"{commit}. [{finding.rule_id}]{suppressed}"
            )
        else:
            lines.append(f"{where}: {finding.severity.label}: {finding.message}{commit} [{finding.rule_id}]{suppressed}")

    lines.append(_summary(run, collector))
    return "\n".join(lines) + "\n"


def _summary(run, collector: CodeCollector) -> str:
    """Write the last line of the text report: findings by severity, files read, and the paths
    skipped whole or in part."""
    counts: dict[str, int] = {}
    for finding in run.findings:
        counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
    by_severity = ", ".join(f"{count} {label}" for label, count in sorted(counts.items(), key=lambda item: -Severity.parse(item[0])))
    summary = count_text(len(run.findings), "finding") + (f" ({by_severity})" if by_severity else "")
    summary += f" in {count_text(collector.stats.files, 'file')} read"

    skipped = {problem.where for problem in collector.problems if problem.skipped}
    partly = {problem.where for problem in collector.problems if not problem.skipped} - skipped
    gaps = []
    if skipped:
        gaps.append(f"{count_text(len(skipped), 'path')} skipped")
    if partly:
        gaps.append(f"{count_text(len(partly), 'file')} partly scanned")
    if not gaps:
        return summary + "."
    # --quiet hides warnings, so the pointer to them would lead nowhere.
    pointer = "see the warnings" if logging.getLogger("shadowmap").isEnabledFor(logging.WARNING) else "run without --quiet to see why"
    return summary + f"; {' and '.join(gaps)} ({pointer})."


def _write(report: str, output: Path | None) -> None:
    if output is None:
        click.echo(report, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
    except OSError as error:
        raise InputError(f"{output}: cannot write the report ({error.strerror}); pass a writable --output") from None
