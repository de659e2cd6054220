"""The audit config: valid files build, invalid ones fail with the key and line named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest

from fixtures import demo_config_path
from scanner.config import load_config, load_schema, parse_config
from scanner.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_demo_config_loads():
    config = load_config(demo_config_path())
    assert config.organisation == "Larkspur Analytics (demo)"
    assert config.policy.owner_tags == ("team", "owner")
    assert config.policy.required_tags == ("team", "cost-center")
    assert config.focus_sources[0].path == "billing/focus-2026-11.csv"
    assert config.focus_sources[0].cost == "effective"
    assert config.owners[0].owner == "research"


def test_relative_paths_resolve_from_config_folder(tmp_path):
    path = write(tmp_path, "version: 1\nsources:\n  billing:\n    focus:\n      - path: exports/nov.csv\n")
    config = load_config(path)
    assert config.resolve(config.focus_sources[0].path) == tmp_path.resolve() / "exports" / "nov.csv"


def test_tag_keys_in_policy_are_normalised(tmp_path):
    path = write(tmp_path, "version: 1\npolicy:\n  owner_tags: [Team, CostCenter, 'user:owner']\n")
    assert load_config(path).policy.owner_tags == ("team", "cost-center", "owner")


def test_unknown_key_names_key_and_line(tmp_path):
    path = write(tmp_path, "version: 1\npolicy:\n  owner_tags: [team]\n  required_tag: [team]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 4: unknown key 'policy.required_tag'")
    assert "required_tags" in message


def test_wrong_type_names_key_and_line(tmp_path):
    path = write(tmp_path, "version: 1\npolicy:\n  owner_tags: team\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: line 3: invalid value at 'policy.owner_tags': must be a list, not text (team)"


def test_wrong_enum_in_list_item_names_index(tmp_path):
    path = write(tmp_path, "version: 1\nsources:\n  billing:\n    focus:\n      - path: a.csv\n      - path: b.csv\n        cost: list\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 7: invalid value at 'sources.billing.focus[1].cost': list is not one of effective, billed"
    )


def test_missing_version_is_reported(tmp_path):
    path = write(tmp_path, "organisation: Acme\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "'version' is required" in str(caught.value)


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, "version: 1\norganisation: A\norganisation: B\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: line 3: key 'organisation' appears twice; keep one"


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path, "version: 1\npolicy: [team\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: line 3: invalid YAML")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert str(caught.value) == f"{tmp_path / 'absent.yaml'}: config file not found; pass an existing file to --config"


def test_empty_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="the config is empty"):
        load_config(write(tmp_path, "# nothing yet\n"))


def test_utf8_bom_config_loads(tmp_path):
    path = tmp_path / "audit.yaml"
    path.write_bytes("\ufeffversion: 1\norganisation: Zürich AG\n".encode("utf-8"))
    assert load_config(path).organisation == "Zürich AG"


def test_suppression_dates_stay_strings_and_parse():
    config = parse_config(
        "version: 1\nsuppressions:\n  - fingerprint: 0123456789abcdef0123456789abcdef\n"
        "    reason: accepted until the profile migration\n    expires: 2027-01-31\n",
        None,
    )
    assert config.suppressions[0].expires == date(2027, 1, 31)


def test_invalid_suppression_date(tmp_path):
    path = write(
        tmp_path,
        "version: 1\nsuppressions:\n  - fingerprint: 0123456789abcdef0123456789abcdef\n"
        "    reason: r\n    expires: 2027-02-31\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: invalid date '2027-02-31' in suppressions; use YYYY-MM-DD"


def test_version_as_string_reads_plainly(tmp_path):
    path = write(tmp_path, "version: '1'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: line 1: invalid value at 'version': must be 1, not text '1'"


def test_bad_fingerprint_names_expected_form(tmp_path):
    path = write(tmp_path, "version: 1\nsuppressions:\n  - fingerprint: abc\n    reason: r\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 3: invalid value at 'suppressions[0].fingerprint': abc is not valid here: expected "
        "the fingerprint of a finding: 32 lowercase hex characters, as report.json gives it"
    )


def test_pattern_error_keeps_acronym_and_drops_default_prefix(tmp_path):
    path = write(tmp_path, "version: 1\nsources:\n  expense:\n    currency: euro\n    files:\n      - path: x.csv\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 4: invalid value at 'sources.expense.currency': euro is not valid here: expected "
        "an ISO 4217 code for the amounts that name no currency, in files with no currency column"
    )


def test_alternatives_error_names_each_form(tmp_path):
    path = write(tmp_path, "version: 1\nsources:\n  expense:\n    files:\n      - path: x.csv\n        columns:\n          amount: 1.5\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 7: invalid value at 'sources.expense.files[0].columns.amount': 1.5 is not valid here: expected "
        "text or a whole number of 1 or more"
    )


def test_top_level_not_a_mapping(tmp_path):
    path = write(tmp_path, "- version: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 1: invalid value at 'the top of the file': must be a mapping of keys to values, not a list ([{{version: 1}}])"
    )



def test_pattern_error_lowers_a_sentence_start(tmp_path):
    path = write(tmp_path, "version: 1\nowners:\n  - owner: research\n    match:\n      tag: department\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: line 5: invalid value at 'owners[0].match.tag': department is not valid here: expected "
        "a tag that must be present with this value, as KEY=VALUE"
    )
