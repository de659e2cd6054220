"""The history store and run diffs: runs saved, found by reference, compared by fingerprint."""

from __future__ import annotations

import sqlite3

import pytest

from scanner.errors import InputError
from scanner.store import HistoryStore, diff_results


def result(run_id: str, started_at: str, findings: list[tuple[str, str]], usd: tuple[str, str, str], config_path="/audits/acme.yaml"):
    """A JSON result with only the fields the store reads, shaped as build_result writes them."""
    total, attributed, unattributed = usd
    return {
        "tool": {"name": "shadowmap", "version": "0.1.0"},
        "run": {
            "id": run_id,
            "label": "scan",
            "started_at": started_at,
            "finished_at": started_at,
            "organisation": "Acme",
            "config_path": config_path,
            "complete": True,
        },
        "findings": {"items": [
            {
                "fingerprint": fingerprint,
                "rule_id": rule_id,
                "severity": "medium",
                "subject": f"aws:1:{fingerprint[:4]}",
                "message": "Some spend reaches no owner.",
                "suppressed": None,
            }
            for fingerprint, rule_id in findings
        ]},
        "coverage": {"USD": {"total": total, "attributed": attributed, "unattributed": unattributed}},
    }


FP_A = "a" * 32
FP_B = "b" * 32
FP_C = "c" * 32


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "nested" / "history.sqlite") as history:
        yield history


def test_saved_run_loads_back_identical(store):
    saved = result("20261101T000000Z-aaaa1111", "2026-11-01T00:00:00+00:00", [(FP_A, "billing.x")], ("10", "4", "6"))
    store.save(saved)
    assert store.load("20261101T000000Z-aaaa1111") == saved


def test_resolve_latest_prefix_and_errors(store):
    store.save(result("20261101T000000Z-aaaa1111", "2026-11-01T00:00:00+00:00", [], ("1", "1", "0")))
    store.save(result("20261102T000000Z-bbbb2222", "2026-11-02T00:00:00+00:00", [], ("1", "1", "0")))
    assert store.resolve("latest") == "20261102T000000Z-bbbb2222"
    assert store.resolve("20261101") == "20261101T000000Z-aaaa1111"
    with pytest.raises(InputError, match="is ambiguous"):
        store.resolve("2026110")
    with pytest.raises(InputError, match="run 'nope' not found"):
        store.resolve("nope")


def test_previous_of_same_config(store):
    store.save(result("r1", "2026-11-01T00:00:00+00:00", [], ("1", "1", "0")))
    store.save(result("other", "2026-11-01T12:00:00+00:00", [], ("1", "1", "0"), config_path="/audits/other.yaml"))
    store.save(result("r2", "2026-11-02T00:00:00+00:00", [], ("1", "1", "0")))
    assert store.previous_of("r2") == "r1"
    with pytest.raises(InputError, match="has no earlier run of the same config"):
        store.previous_of("r1")


def test_empty_store_has_no_latest(store):
    with pytest.raises(InputError, match="has no runs yet"):
        store.resolve("latest")


def test_store_that_is_not_sqlite_is_input_error(tmp_path):
    path = tmp_path / "history.sqlite"
    path.write_text("not a database", encoding="utf-8")
    with pytest.raises(InputError, match="cannot open the history store"):
        HistoryStore(path)


def test_store_from_newer_version_is_rejected(tmp_path):
    path = tmp_path / "history.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(InputError, match="written by a newer shadowmap"):
        HistoryStore(path)


def test_diff_new_fixed_unchanged_and_coverage_change():
    before = result("r1", "2026-11-01T00:00:00+00:00", [(FP_A, "billing.x"), (FP_B, "billing.y")], ("10.00", "4.00", "6.00"))
    after = result("r2", "2026-11-02T00:00:00+00:00", [(FP_B, "billing.y"), (FP_C, "billing.z")], ("12.00", "9.00", "3.00"))
    diff = diff_results(before, after)
    assert [f["fingerprint"] for f in diff.new] == [FP_C]
    assert [f["fingerprint"] for f in diff.fixed] == [FP_A]
    assert [f["fingerprint"] for f in diff.unchanged] == [FP_B]
    assert diff.has_changes
    change = diff.to_dict()["coverage"][0]
    assert change["currency"] == "USD"
    assert change["change"] == {"total": "2.00", "attributed": "5.00", "unattributed": "-3.00"}


def test_diff_of_identical_runs_has_no_changes():
    before = result("r1", "2026-11-01T00:00:00+00:00", [(FP_A, "billing.x")], ("10.00", "4.00", "6.00"))
    after = result("r2", "2026-11-02T00:00:00+00:00", [(FP_A, "billing.x")], ("10.00", "4.00", "6.00"))
    diff = diff_results(before, after)
    assert not diff.has_changes
    assert diff.new == []
    assert diff.fixed == []
    assert len(diff.unchanged) == 1


def test_diff_currency_only_in_one_run():
    before = result("r1", "2026-11-01T00:00:00+00:00", [], ("10.00", "4.00", "6.00"))
    after = result("r2", "2026-11-02T00:00:00+00:00", [], ("10.00", "4.00", "6.00"))
    after["coverage"]["EUR"] = {"total": "5.00", "attributed": "0", "unattributed": "5.00"}
    changes = {c["currency"]: c for c in diff_results(before, after).to_dict()["coverage"]}
    assert changes["EUR"]["before"] is None
    assert changes["EUR"]["change"]["total"] is None
    assert diff_results(before, after).has_changes
