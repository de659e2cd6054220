"""The rule pack: one module per rule family, each exporting RULES.

Every module of this package other than `contract` is a rule family; adding a module with a
RULES list adds its rules to every run.
"""

from __future__ import annotations

import importlib
import pkgutil

from rules.contract import Rule


def all_rules() -> list[Rule]:
    """Every rule of every family, ordered by id."""
    rules: list[Rule] = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "contract" or module_info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        rules.extend(getattr(module, "RULES", []))
    return sorted(rules, key=lambda rule: rule.id)
