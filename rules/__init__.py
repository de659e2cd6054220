"""The rule pack: one module per rule family, each exporting RULES."""

from __future__ import annotations

from rules.contract import Rule


def all_rules() -> list[Rule]:
    """Every rule of every family, ordered by id."""
    from rules import billing_attribution

    families = [billing_attribution]
    rules = [rule for family in families for rule in family.RULES]
    return sorted(rules, key=lambda rule: rule.id)
