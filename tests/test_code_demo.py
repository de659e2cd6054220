"""The demo organisation's GitHub snapshot: reproducible, and scanned to the planted keys only."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from collectors.code.collector import CodeCollector
from collectors.code.settings import code_settings
from collectors.contract import CollectContext
from scanner.config import parse_config

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "code"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_repositories", DEMO / "generate_repositories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_snapshot_matches_its_generator(tmp_path):
    load_generator().write(tmp_path)
    for name in ("repos.json", "claims-api.tar.gz", "search-ui.tar.gz", "research-notebooks.tar.gz"):
        committed = DEMO / "github" / "larkspur-analytics" / name
        assert (tmp_path / name).read_bytes() == committed.read_bytes(), name


def test_demo_snapshot_yields_the_planted_keys_only():
    text = f"version: 1\nsources:\n  code:\n    snapshot: {DEMO}\n    github:\n      - organization: larkspur-analytics\n"
    config = parse_config(text, None)
    result = CodeCollector(code_settings(config)).collect(CollectContext(logger=logging.getLogger("test")))
    found = sorted((a.scope.split("/")[1], a.attributes["path"], a.provider, a.attributes["key_type"]) for a in result.assets)
    assert found == [
        ("claims-api", ".env", "anthropic", "project"),
        ("claims-api", "src/claims/settings.py", "openai", "admin"),
        ("research-notebooks", "notebooks/explore-gemini.ipynb", "google", "project"),
        ("research-notebooks", "notebooks/explore-gemini.ipynb", "huggingface", "user"),
        ("research-notebooks", "scripts/quick_eval.py", "openai", "user"),
        ("search-ui", "server/rank.py", "azure", "unknown"),
    ]
    assert result.outcome.status.value == "ok"
