"""Benchmark `shadowmap code` against detect-secrets alone and a compiled secret scanner.

Runs each scanner once over the same tree and records wall time and peak memory (the largest sum
of the resident set sizes of the scanner's process and all its descendants, sampled every 20 ms
from /proc). Run by hand, never by the test suite:

    python bench/bench_code.py [TREE ...] [--kingfisher PATH]

TREE defaults to boto3, botocore and moto in the site-packages of the running interpreter.
detect-secrets runs with its default plugins and filters (`detect-secrets scan --all-files`).
Kingfisher comes from the kingfisher-bin package on PyPI, installed in a separate virtual
environment (`python -m venv /tmp/kf-venv && /tmp/kf-venv/bin/pip install kingfisher-bin`) so it
never enters shadowmap's dependencies; it runs with validation, update checks, archive extraction
and binary scanning off, which matches what the other two scan.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.02
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Measurement:
    name: str
    wall_seconds: float
    peak_mib: float
    exit_code: int


def descendants(pid: int) -> list[int]:
    """List the pid and every live process below it, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def resident_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(name: str, command: list[str], cwd: Path | None = None) -> Measurement:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, resident_kib(descendants(process.pid)))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    return Measurement(name, wall, peak / 1024, process.returncode)


def tree_size(paths: list[Path]) -> tuple[int, int]:
    files = size = 0
    for root in paths:
        for folder, _, names in os.walk(root):
            for name in names:
                try:
                    size += os.lstat(os.path.join(folder, name)).st_size
                    files += 1
                except OSError:
                    pass
    return files, size


def main() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", type=Path, default=[site_packages / name for name in ("boto3", "botocore", "moto")])
    parser.add_argument("--kingfisher", default=shutil.which("kingfisher") or "/tmp/kf-venv/bin/kingfisher")
    parser.add_argument("--skip-detect-secrets", action="store_true", help="Leave out detect-secrets, which takes minutes on large trees.")
    arguments = parser.parse_args()
    trees = [tree.resolve() for tree in arguments.trees]
    bin_folder = Path(sys.executable).parent
    # Every scanner runs in the trees' common parent with relative paths: detect-secrets skips
    # files outside its working folder, so absolute paths elsewhere would scan nothing.
    parent = Path(os.path.commonpath([str(tree.parent) for tree in trees]))
    relative = [str(tree.relative_to(parent)) for tree in trees]

    files, size = tree_size(trees)
    print(f"tree: {', '.join(map(str, trees))}: {files} files, {size / 1024 / 1024:.0f} MiB; {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "bench.yaml"
        config.write_text("version: 1\nsources:\n  code:\n    skip_vendored: false\n")
        runs = [
            ("shadowmap code", [str(bin_folder / "shadowmap"), "code", *relative, "--config", str(config), "--fail-on", "none", "--quiet"]),
            ("kingfisher " + _version(arguments.kingfisher), [
                arguments.kingfisher, "scan", *relative, "--no-validate", "--no-update-check", "--no-extract-archives",
                "--no-binary", "--format", "json", "--output", str(Path(scratch) / "kingfisher.json"),
            ]),
        ]
        if not arguments.skip_detect_secrets:
            runs.append(("detect-secrets scan --all-files", [str(bin_folder / "detect-secrets"), "scan", "--all-files", *relative]))

        results = [measure(name, command, cwd=parent) for name, command in runs]

    print("| scanner | wall time (s) | peak memory (MiB) | exit status |")
    print("|---|---|---|---|")
    for result in results:
        print(f"| {result.name} | {result.wall_seconds:.2f} | {result.peak_mib:.0f} | {result.exit_code} |")


def _version(executable: str) -> str:
    try:
        return subprocess.run([executable, "--version"], capture_output=True, text=True, check=False).stdout.split()[-1]
    except (OSError, IndexError):
        return "(not found)"


if __name__ == "__main__":
    main()
