"""The audit config: YAML checked against `config.schema.json`, errors named by key and line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from scanner.errors import ConfigError
from scanner.model import normalise_tag_key


@dataclass(frozen=True)
class OwnerMapping:
    """Attributes spend with no owner tag to `owner` when every match field equals the line's,
    letter case aside."""

    owner: str
    match: dict[str, str]


@dataclass(frozen=True)
class Policy:
    """The organisation's rules for attribution, as configuration rather than code."""

    required_tags: tuple[str, ...] = ()
    owner_tags: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    sanctioned_vendors: tuple[str, ...] = ()


@dataclass(frozen=True)
class FocusSource:
    """One FOCUS export path (or glob) and the cost column that counts."""

    path: str
    cost: str = "effective"


@dataclass(frozen=True)
class SuppressionRule:
    """A finding accepted by fingerprint until an optional expiry date."""

    fingerprint: str
    reason: str
    expires: date | None = None


@dataclass
class AuditConfig:
    """A validated audit config. `base_dir` is the folder relative paths are resolved from.

    `sources` keeps each source family's validated settings as written; the family's collector
    package reads its own part.
    """

    path: Path | None
    base_dir: Path
    organisation: str = "unnamed organisation"
    policy: Policy = field(default_factory=Policy)
    owners: list[OwnerMapping] = field(default_factory=list)
    focus_sources: list[FocusSource] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressions: list[SuppressionRule] = field(default_factory=list)
    output_dir: Path | None = None
    history_path: Path | None = None

    def resolve(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


class _StringDateLoader(yaml.SafeLoader):
    """A safe loader that keeps dates as written, so the schema sees `2027-01-31` as a string."""


_StringDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# Source families whose settings sit under `sources:`. Each one's settings are described by
# `collectors/<family>/config.schema.json`, which `load_schema` places under sources.<family>.
SOURCE_FAMILIES = ("billing", "aws", "azure", "gcp", "openai", "anthropic", "cohere", "code", "expense")


def load_schema() -> dict[str, Any]:
    """Return the complete config schema: the core file with every source family's schema in place."""
    text = resources.files("scanner").joinpath("config.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    families = schema["properties"]["sources"]["properties"]
    for family in SOURCE_FAMILIES:
        fragment = resources.files("collectors").joinpath(family, "config.schema.json")
        if fragment.is_file():
            families[family] = json.loads(fragment.read_text(encoding="utf-8"))
    return schema


def load_config(path: Path) -> AuditConfig:
    """Read, validate and build the config at `path`; raise ConfigError naming key and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; pass an existing file to --config") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config file ({error})") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path | None) -> AuditConfig:
    name = str(path) if path else "<config>"
    try:
        root = yaml.compose(text, Loader=_StringDateLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{name}:{where}: invalid YAML: {problem}") from None
    if root is None:
        raise ConfigError(f"{name}: the config is empty; start from fixtures/demo/audit.yaml")

    _reject_duplicate_keys(root, name)
    document = yaml.load(text, Loader=_StringDateLoader)  # noqa: S506 - a safe loader subclass
    _validate(document, root, name)

    base_dir = path.parent.resolve() if path else Path.cwd()
    return _build(document, path, base_dir)


def _reject_duplicate_keys(node: yaml.Node, name: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"{name}: line {key_node.start_mark.line + 1}: key {key!r} appears twice; "
                    "keep one"
                )
            seen.add(key)
            _reject_duplicate_keys(value_node, name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(item, name)


def _validate(document: Any, root: yaml.Node, name: str) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    path = list(error.absolute_path)

    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(key for key in error.instance if key not in allowed)
        key_path = path + [unknown[0]]
        line = _line_of(root, key_path, key_itself=True)
        known = ", ".join(sorted(allowed))
        raise ConfigError(
            f"{name}: line {line}: unknown key {_dotted(key_path)!r}; known keys here: {known}"
        )

    line = _line_of(root, path, key_itself=False)
    where = _dotted(path) or "the top of the file"
    raise ConfigError(f"{name}: line {line}: invalid value at {where!r}: {_describe(error)}")


# The words for each JSON Schema type in a YAML config, for error messages.
_YAML_TYPE_NAMES = {
    "array": "a list",
    "object": "a mapping of keys to values",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}
_PYTHON_TYPE_NAMES = {
    list: "a list",
    dict: "a mapping",
    str: "text",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "nothing",
}


def _describe(error: jsonschema.ValidationError) -> str:
    """Say what is wrong with a value in the words of a YAML file, not of JSON Schema."""
    found = _PYTHON_TYPE_NAMES.get(type(error.instance), type(error.instance).__name__)
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_YAML_TYPE_NAMES.get(name, name) for name in expected)
        return f"must be {wanted}, not {found} ({_shown(error.instance)})"
    if error.validator == "enum":
        return f"{_shown(error.instance)} is not one of {', '.join(_shown(value) for value in error.validator_value)}"
    if error.validator == "const":
        return f"must be {error.validator_value!r}, not {found} {_shown(error.instance)}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "pattern":
        description = error.schema.get("description")
        rule = description.rstrip(".") if description else f"the form {error.validator_value}"
        # Descriptions of a family's defaults start with this prefix; the rule follows it.
        rule = rule.removeprefix("Default for every file: ")
        # Lower the first letter of a sentence, but not of an acronym such as ISO.
        if not rule[1:2].isupper():
            rule = rule[0].lower() + rule[1:]
        return f"{_shown(error.instance)} is not valid here: expected {rule}"
    if error.validator in ("minLength", "minItems", "minProperties"):
        return "must not be empty"
    if error.validator == "uniqueItems":
        return "lists an entry twice; keep one"
    if error.validator in ("oneOf", "anyOf"):
        forms = " or ".join(_form(schema) for schema in error.validator_value)
        return f"{_shown(error.instance)} is not valid here: expected {forms}"
    return error.message


def _form(schema: dict[str, Any]) -> str:
    """Name the form a value of one alternative of a schema takes, such as `a number of 1 or more`."""
    kind = schema.get("type")
    if kind == "integer" and "minimum" in schema:
        return f"a whole number of {schema['minimum']} or more"
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_form(alternative) for alternative in schema.get("oneOf", schema.get("anyOf", [])))
    return _YAML_TYPE_NAMES.get(kind, "a value") if isinstance(kind, str) else "a value"


def _shown(value: Any) -> str:
    """Return a value as it would appear in the YAML file, cut short when long."""
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    text = text.removesuffix("\n...").strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(path: list[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text


def _line_of(root: yaml.Node, path: list[Any], key_itself: bool) -> int:
    """Find the 1-based line of the node at `path`, or of the nearest parent that exists."""
    node = root
    line = root.start_mark.line + 1
    for depth, part in enumerate(path):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            key_node, node = match
            is_last = depth == len(path) - 1
            line = (key_node if key_itself and is_last else node).start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _build(document: dict[str, Any], path: Path | None, base_dir: Path) -> AuditConfig:
    policy_doc = document.get("policy", {})
    policy = Policy(
        required_tags=tuple(normalise_tag_key(t) for t in policy_doc.get("required_tags", [])),
        owner_tags=tuple(normalise_tag_key(t) for t in policy_doc.get("owner_tags", [])),
        gateways=tuple(host.lower() for host in policy_doc.get("gateways", [])),
        sanctioned_vendors=tuple(policy_doc.get("sanctioned_vendors", [])),
    )

    owners = [OwnerMapping(m["owner"], dict(m["match"])) for m in document.get("owners", [])]

    billing = document.get("sources", {}).get("billing", {})
    focus_sources = [FocusSource(s["path"], s.get("cost", "effective")) for s in billing.get("focus", [])]

    suppressions = [
        SuppressionRule(
            fingerprint=s["fingerprint"],
            reason=s["reason"],
            expires=_parse_date(s.get("expires"), path),
        )
        for s in document.get("suppressions", [])
    ]

    config = AuditConfig(
        path=path,
        base_dir=base_dir,
        organisation=document.get("organisation", "unnamed organisation"),
        policy=policy,
        owners=owners,
        focus_sources=focus_sources,
        sources=dict(document.get("sources", {})),
        suppressions=suppressions,
    )
    if "dir" in document.get("output", {}):
        config.output_dir = config.resolve(document["output"]["dir"])
    if "path" in document.get("history", {}):
        config.history_path = config.resolve(document["history"]["path"])
    return config


def _parse_date(text: str | None, path: Path | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{path or '<config>'}: invalid date {text!r} in suppressions; use YYYY-MM-DD") from None
