"""The AI configuration analyser: AI settings in `.env` files and MCP server configurations.

From a `.env` file it keeps the names of the AI variables it sets, the host of each endpoint
variable (`OPENAI_BASE_URL=...`) and the value of model variables (`BEDROCK_MODEL_ID=...`). No
other value enters the result, and neither does any value of a variable whose name contains key,
token, secret or password. From an MCP configuration it keeps each server's name, transport,
launcher and package or URL host, and only the names of its environment variables.
"""

from __future__ import annotations

import json
import re
from typing import Any

from collectors.code.inventory import AI_SETTING, MCP_SERVER, InventoryOccurrence
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.sdks import bedrock_model_class, host_of, load_catalogue

ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")
ENV_REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}?$")

# Launchers whose first argument that is not an option names the server's package or image.
PACKAGE_LAUNCHERS = frozenset({"npx", "bunx", "pnpm", "uvx", "pipx", "docker", "podman"})


class AIConfigAnalyser:
    """Lists AI settings of .env files and the servers of MCP configurations."""

    name = "ai-config"
    literals: tuple[str, ...] = ()

    def __init__(self, options: ScanOptions):
        self.catalogue = load_catalogue()

    def accepts_path(self, path: str) -> bool:
        return _is_env_file(path) or self._mcp_entry(path) is not None

    def analyse(self, document: Document) -> list[InventoryOccurrence]:
        if _is_env_file(document.source.path):
            return self._env(document)
        entry = self._mcp_entry(document.source.path)
        return self._mcp(document, entry) if entry is not None else []

    def _mcp_entry(self, path: str) -> dict[str, str] | None:
        name = path.rsplit("/", 1)[-1]
        for entry in self.catalogue.mcp_files:
            if entry.get("name") == name or ("path_suffix" in entry and f"/{path}".endswith("/" + entry["path_suffix"])):
                return entry
        return None

    # .env files

    def _env(self, document: Document) -> list[InventoryOccurrence]:
        items = []
        for number, raw in enumerate(document.text.splitlines(), start=1):
            match = ENV_LINE.match(raw)
            if match is None or raw.lstrip().startswith("#"):
                continue
            name = match["name"].upper()
            provider = self._env_provider(name)
            if provider is None:
                continue
            attributes: dict[str, Any] = {"variable": match["name"], "file": "env"}
            secret = any(word in name for word in self.catalogue.env_secret_words)
            value = _unquote(match["value"])
            reference = bool(ENV_REFERENCE.match(value))
            if reference:
                attributes["value_kind"] = "reference"
            else:
                attributes["value_kind"] = "literal" if value else "empty"
            if not secret and not reference and value:
                if name.endswith(self.catalogue.env_endpoint_suffixes):
                    host = host_of(value)
                    attributes["host"] = host
                    attributes["host_provider"] = self.catalogue.provider_of_host(host)
                elif "MODEL" in name:
                    attributes["model_id"] = value
                    if provider == "aws":
                        attributes["model_id_class"] = bedrock_model_class(value)
            items.append(
                InventoryOccurrence(
                    kind=AI_SETTING, scope=document.source.scope, path=document.source.path, line=number,
                    column=match.start("name") + 1, provider=provider, name=match["name"], attributes=attributes,
                    commit=document.source.commit,
                )
            )
        return items

    def _env_provider(self, name: str) -> str | None:
        for pattern, provider in self.catalogue.env_settings:
            if pattern.fullmatch(name):
                return provider
        return None

    # MCP server configurations

    def _mcp(self, document: Document, entry: dict[str, str]) -> list[InventoryOccurrence]:
        try:
            config = json.loads(document.text)
        except ValueError as error:
            document.report(f"not valid JSON ({error}); its MCP servers were not listed")
            return []
        if not isinstance(config, dict):
            return []
        servers = config.get(entry["servers_key"])
        if not isinstance(servers, dict):
            servers = config.get("servers") or config.get("mcpServers")
        if not isinstance(servers, dict):
            return []

        items = []
        for name, server in servers.items():
            if not isinstance(server, dict):
                continue
            items.append(
                InventoryOccurrence(
                    kind=MCP_SERVER, scope=document.source.scope, path=document.source.path,
                    line=_key_line(document.text, name), column=1, provider=self._server_provider(server),
                    name=str(name), attributes=_server_attributes(server, self.catalogue), commit=document.source.commit,
                )
            )
        return items

    def _server_provider(self, server: dict[str, Any]) -> str:
        url = server.get("url") or server.get("serverUrl")
        provider = self.catalogue.provider_of_host(host_of(url)) if isinstance(url, str) else None
        return provider or "mcp"


def _server_attributes(server: dict[str, Any], catalogue) -> dict[str, Any]:
    url = server.get("url") or server.get("serverUrl")
    command = server.get("command")
    attributes: dict[str, Any] = {}
    if isinstance(url, str):
        attributes["transport"] = server.get("type") if server.get("type") in ("http", "sse", "streamable-http") else "http"
        attributes["host"] = host_of(url)
    elif isinstance(command, str):
        attributes["transport"] = "stdio"
        launcher = command.replace("\\", "/").rsplit("/", 1)[-1]
        attributes["command"] = launcher
        arguments = [item for item in server.get("args", []) if isinstance(item, str)]
        package = _package_argument(launcher, arguments)
        if package:
            attributes["package"] = package
    env = server.get("env")
    if isinstance(env, dict):
        attributes["env_variables"] = sorted(str(key) for key in env)
    headers = server.get("headers")
    if isinstance(headers, dict):
        attributes["header_names"] = sorted(str(key) for key in headers)
    return attributes


def _package_argument(launcher: str, arguments: list[str]) -> str | None:
    """Return the package or image a launcher runs: the first argument that is not an option (and,
    for docker, not `run`). Anything else on the command line may be a secret and is not kept."""
    if launcher not in PACKAGE_LAUNCHERS:
        return None
    for argument in arguments:
        if argument.startswith("-") or argument in ("run", "dlx", "exec", "x"):
            continue
        return argument if "=" not in argument else None
    return None


def _is_env_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def _key_line(text: str, key: str) -> int:
    match = re.search(r'"' + re.escape(str(key)) + r'"\s*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
