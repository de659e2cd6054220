"""The manifest analyser: AI SDK packages declared in requirements files, pyproject.toml,
package.json, go.mod and pom.xml, with the version each pins.

Files are picked by name, whatever they contain; each declared package that the catalogue
(`packages` in rules/catalogues/ai_sdks.yaml) names becomes one `code.ai_package` item with a
package URL (purl) for the AI-BOM.
"""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ElementTree
from typing import Any, Iterator
from urllib.parse import quote

from collectors.code.inventory import AI_PACKAGE, InventoryOccurrence
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.sdks import load_catalogue

# A PEP 508 requirement: name, extras, then the version specifier and markers.
REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)")
EXACT_VERSION = re.compile(r"^\s*===?\s*(?P<version>[A-Za-z0-9.*+!_-]+)\s*$")
GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?(?P<module>[a-z0-9.-]+\.[a-z]{2,}/\S+)\s+(?P<version>v\S+)")
MAVEN_NAMESPACE = re.compile(r"^\{[^}]*\}")


def normalise_pypi(name: str) -> str:
    """PEP 503 normalisation: `Google_Cloud.AIPlatform` and `google-cloud-aiplatform` are one name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class ManifestAnalyser:
    """Lists the AI SDK packages each manifest declares."""

    name = "manifests"
    literals: tuple[str, ...] = ()

    def __init__(self, options: ScanOptions):
        self.catalogue = load_catalogue()

    def accepts_path(self, path: str) -> bool:
        return _manifest_type(path) is not None

    def analyse(self, document: Document) -> list[InventoryOccurrence]:
        kind = _manifest_type(document.source.path)
        reader = {
            "requirements": self._requirements,
            "pyproject": self._pyproject,
            "package.json": self._package_json,
            "go.mod": self._go_mod,
            "pom.xml": self._pom,
        }[kind]
        try:
            declared = list(reader(document.text))
        except (ValueError, ElementTree.ParseError, tomllib.TOMLDecodeError) as error:
            document.report(f"not a valid {kind} manifest ({_first_line(error)}); its packages were not listed")
            return []
        items = []
        seen = set()
        for ecosystem, name, version, constraint in declared:
            provider = self.catalogue.packages.get(ecosystem, {}).get(_catalogue_name(ecosystem, name))
            if provider is None or (ecosystem, name.lower()) in seen:
                continue
            seen.add((ecosystem, name.lower()))
            line = _line_of(document.text, name)
            items.append(
                InventoryOccurrence(
                    kind=AI_PACKAGE, scope=document.source.scope, path=document.source.path, line=line, column=1,
                    provider=provider, name=name,
                    attributes={"ecosystem": ecosystem, "package": name, "version": version, "constraint": constraint or None,
                                "manifest": kind, "purl": purl(ecosystem, name, version)},
                    commit=document.source.commit,
                )
            )
        return items

    def _requirements(self, text: str) -> Iterator[tuple[str, str, str | None, str]]:
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith(("#", "-", "git+", "http:", "https:", ".", "/")):
                continue
            yield self._pep508(line)

    def _pep508(self, requirement: str) -> tuple[str, str, str | None, str]:
        match = REQUIREMENT.match(requirement)
        if match is None:
            return ("pypi", requirement.strip(), None, "")
        spec = match["spec"].strip()
        exact = EXACT_VERSION.match(spec)
        return ("pypi", match["name"], exact["version"] if exact else None, spec)

    def _pyproject(self, text: str) -> Iterator[tuple[str, str, str | None, str]]:
        document = tomllib.loads(text)
        project = document.get("project", {})
        requirements: list[Any] = list(project.get("dependencies", []))
        for group in project.get("optional-dependencies", {}).values():
            requirements.extend(group)
        for group in document.get("dependency-groups", {}).values():
            requirements.extend(item for item in group if isinstance(item, str))
        for requirement in requirements:
            if isinstance(requirement, str):
                yield self._pep508(requirement)

        poetry = document.get("tool", {}).get("poetry", {})
        tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
        tables.extend(group.get("dependencies", {}) for group in poetry.get("group", {}).values())
        for table in tables:
            for name, spec in table.items():
                if name.lower() == "python":
                    continue
                version_spec = spec if isinstance(spec, str) else spec.get("version", "") if isinstance(spec, dict) else ""
                exact = EXACT_VERSION.match(version_spec) or re.match(r"^(?P<version>\d[A-Za-z0-9.+!_-]*)$", version_spec)
                yield ("pypi", name, exact["version"] if exact else None, version_spec)

    def _package_json(self, text: str) -> Iterator[tuple[str, str, str | None, str]]:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("the top level is not an object")
        for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
            for name, spec in (document.get(section) or {}).items():
                spec_text = spec if isinstance(spec, str) else ""
                exact = re.match(r"^=?v?(?P<version>\d+\.\d+\.\d+[A-Za-z0-9.+-]*)$", spec_text)
                yield ("npm", name, exact["version"] if exact else None, spec_text)

    def _go_mod(self, text: str) -> Iterator[tuple[str, str, str | None, str]]:
        in_block = False
        for raw in text.splitlines():
            line = raw.split("//", 1)[0].strip()
            if line.startswith("require ("):
                in_block = True
                continue
            if in_block and line == ")":
                in_block = False
                continue
            if in_block or line.startswith("require "):
                match = GO_REQUIRE.match(line)
                if match:
                    yield ("go", _go_module_base(match["module"]), match["version"], match["version"])

    def _pom(self, text: str) -> Iterator[tuple[str, str, str | None, str]]:
        root = ElementTree.fromstring(text)
        for element in root.iter():
            if MAVEN_NAMESPACE.sub("", element.tag) != "dependency":
                continue
            fields = {MAVEN_NAMESPACE.sub("", child.tag): (child.text or "").strip() for child in element}
            if "groupId" in fields and "artifactId" in fields:
                version = fields.get("version") or None
                exact = version if version and not version.startswith("${") and not version.startswith("[") else None
                yield ("maven", f"{fields['groupId']}:{fields['artifactId']}", exact, version or "")


def _manifest_type(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1]
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return "requirements"
    if "/requirements/" in f"/{path}" and name.endswith((".txt", ".in")):
        return "requirements"
    return {"pyproject.toml": "pyproject", "package.json": "package.json", "go.mod": "go.mod", "pom.xml": "pom.xml"}.get(name)


def _catalogue_name(ecosystem: str, name: str) -> str:
    return normalise_pypi(name) if ecosystem == "pypi" else name.lower()


def _go_module_base(module: str) -> str:
    """Drop a major-version suffix: `github.com/openai/openai-go/v2` is `github.com/openai/openai-go`."""
    return re.sub(r"/v\d+$", "", module)


def _line_of(text: str, name: str) -> int:
    """Return the line that declares the package: a TOML key set to a version (not a list of
    extras), or a line that starts with the name (requirements, go.mod), else the first line that
    names it (for Maven the artifact id), else 1."""
    needle = name.split(":", 1)[1] if ":" in name else name
    escaped = re.escape(needle)
    for pattern in (
        rf'^[ \t]*"?{escaped}"?[ \t]*=(?![ \t]*\[)',
        rf'^[ \t]*(?:require[ \t]+)?"?{escaped}(?![A-Za-z0-9_.-])',
        rf'(?<![A-Za-z0-9_.@/-]){escaped}(?![A-Za-z0-9_-])',
    ):
        match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return 1


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def purl(ecosystem: str, name: str, version: str | None) -> str:
    """Build the package URL (purl specification) of a package: `pkg:pypi/openai@1.54.0`,
    `pkg:npm/%40anthropic-ai/sdk@0.30.1`, `pkg:golang/...`, `pkg:maven/group/artifact@...`."""
    at = f"@{quote(version, safe='')}" if version else ""
    if ecosystem == "pypi":
        return f"pkg:pypi/{normalise_pypi(name)}{at}"
    if ecosystem == "npm":
        if name.startswith("@") and "/" in name:
            scope, package = name.split("/", 1)
            return f"pkg:npm/{quote(scope, safe='')}/{quote(package, safe='')}{at}"
        return f"pkg:npm/{quote(name, safe='')}{at}"
    if ecosystem == "go":
        return f"pkg:golang/{name}{at}"
    if ecosystem == "maven":
        group, artifact = name.split(":", 1)
        return f"pkg:maven/{group}/{artifact}{at}"
    return f"pkg:generic/{quote(name, safe='')}{at}"
