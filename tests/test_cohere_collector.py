"""Cohere: no admin API, so naming it in the config yields an outcome whose note names where its
spend can be found instead."""

from __future__ import annotations

import json
import logging

from collectors.cohere import build_collectors
from collectors.cohere.collector import NOTE
from collectors.contract import CollectContext
from scanner.config import parse_config


def _config(tmp_path, settings):
    return parse_config(json.dumps({"version": 1, "sources": {"cohere": settings}}), tmp_path / "audit.yaml")


def test_outcome_notes_billing_and_expense(tmp_path):
    collectors = build_collectors(_config(tmp_path, {}))

    result = collectors[0].collect(CollectContext(logging.getLogger("shadowmap.test")))
    result.outcome.settle()

    assert result.outcome.status.value == "ok"
    assert result.outcome.source == "none"
    assert result.outcome.notes == [NOTE]
    assert "billing" in NOTE
    assert "expense" in NOTE
    assert result.assets == []
    assert result.spend_lines == []


def test_disabled_builds_nothing(tmp_path):
    assert build_collectors(_config(tmp_path, {"enabled": False})) == []


def test_absent_builds_nothing(tmp_path):
    assert build_collectors(parse_config(json.dumps({"version": 1, "sources": {}}), tmp_path / "audit.yaml")) == []
