"""Collectors: one subpackage per source family.

A family package exposes `build_collectors(config) -> list[Collector]`, returning one collector
for each source the config names (none when the config names none). It may also expose
`COMMANDS`, a list of click commands the CLI adds (such as `shadowmap code`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from collectors.contract import Collector
from scanner.config import SOURCE_FAMILIES, AuditConfig


def family_modules() -> list[ModuleType]:
    """The installed source family packages, in SOURCE_FAMILIES order."""
    modules = []
    for family in SOURCE_FAMILIES:
        try:
            modules.append(importlib.import_module(f"collectors.{family}"))
        except ModuleNotFoundError as error:
            if error.name != f"collectors.{family}":
                raise
    return modules


def build_collectors(config: AuditConfig) -> list[Collector]:
    """Instantiate every collector the config names, in a stable order."""
    collectors: list[Collector] = []
    for module in family_modules():
        build = getattr(module, "build_collectors", None)
        if build is not None:
            collectors.extend(build(config))
    return collectors
