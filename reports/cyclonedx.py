"""CycloneDX 1.6 AI-BOM of the AI found in code, rendered from the JSON result.

What goes where (CycloneDX 1.6 JSON):
- AI SDK packages from manifests are `library` components with their package URL;
- models named by AI calls are `machine-learning-model` components, one per provider and model,
  with every call site as a property;
- notebooks that use AI are `file` components;
- provider endpoints the calls reach, AI resources declared in Terraform and MCP servers are
  `services`;
- `.env` AI settings are properties of the root component.
Secrets never enter the BOM: keys found in code are left out, and .env values are reduced to
hosts and model IDs by the collector already. Property names use the `shadowmap:` namespace.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"

# A fixed namespace, so that the serial number of a run's BOM is the same each time it is rendered.
SERIAL_NAMESPACE = uuid.UUID("6b1f4a52-9d0e-4c55-a3f1-2f0c1d7e8a90")

PROVIDER_NAMES = {
    "aws": "Amazon Web Services", "azure": "Microsoft Azure", "gcp": "Google Cloud", "google": "Google",
    "openai": "OpenAI", "anthropic": "Anthropic", "cohere": "Cohere", "mistral": "Mistral AI",
}


def build_cyclonedx(result: dict[str, Any]) -> dict[str, Any]:
    """Build the CycloneDX 1.6 document of a JSON result's code inventory."""
    assets = result["inventory"]["assets"]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for asset in assets:
        by_kind[asset["kind"]].append(asset)

    components = [*_libraries(by_kind["code.ai_package"]), *_models(by_kind["code.ai_call"]), *_notebooks(by_kind["code.notebook"])]
    services = [*_endpoints(by_kind["code.ai_call"]), *_iac_services(by_kind["code.iac_resource"]), *_mcp_services(by_kind["code.mcp_server"])]

    run = result["run"]
    root_ref = "shadowmap-scope"
    root: dict[str, Any] = {"type": "application", "bom-ref": root_ref, "name": run.get("organisation") or "scanned code"}
    scopes = sorted({asset["scope"] for asset in assets if asset["kind"].startswith("code.")})
    root_properties = [_property("shadowmap:scope", scope) for scope in scopes]
    root_properties += _settings(by_kind["code.ai_setting"])
    if root_properties:
        root["properties"] = root_properties

    document: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid5(SERIAL_NAMESPACE, str(run.get('id') or ''))}",
        "version": 1,
        "metadata": {
            "timestamp": run.get("finished_at") or run.get("started_at"),
            "tools": {"components": [{"type": "application", "name": result["tool"]["name"], "version": result["tool"]["version"]}]},
            "component": root,
        },
        "components": components,
        "services": services,
        "dependencies": [{"ref": root_ref, "dependsOn": [item["bom-ref"] for item in [*components, *services]]}],
    }
    if not document["metadata"]["timestamp"]:
        del document["metadata"]["timestamp"]
    return document


def render_cyclonedx(result: dict[str, Any]) -> str:
    return json.dumps(build_cyclonedx(result), indent=2, ensure_ascii=False) + "\n"


def _property(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "value": str(value)}


def _place(asset: dict[str, Any]) -> str:
    attributes = asset["attributes"]
    return f"{asset['scope']}:{attributes['path']}:{attributes['line']}"


def _libraries(packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_purl: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for asset in packages:
        by_purl[asset["attributes"]["purl"]].append(asset)
    components = []
    for purl, found in sorted(by_purl.items()):
        attributes = found[0]["attributes"]
        name = attributes["package"]
        component: dict[str, Any] = {"type": "library", "bom-ref": purl}
        if attributes["ecosystem"] == "npm" and name.startswith("@") and "/" in name:
            component["group"], component["name"] = name.split("/", 1)
        elif attributes["ecosystem"] == "maven":
            component["group"], component["name"] = name.split(":", 1)
        else:
            component["name"] = name
        if attributes.get("version"):
            component["version"] = attributes["version"]
        component["purl"] = purl
        properties = [_property("shadowmap:provider", found[0]["provider"])]
        properties += [_property("shadowmap:manifest", _place(asset)) for asset in found]
        properties += [_property("shadowmap:constraint", asset["attributes"]["constraint"]) for asset in found[:1] if asset["attributes"].get("constraint")]
        component["properties"] = properties
        components.append(component)
    return components


def _models(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_model: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for asset in calls:
        model = asset["attributes"].get("model_id")
        if model and "{" not in model:  # a template built at run time names no model
            by_model[(asset["provider"], model)].append(asset)
    components = []
    for (provider, model), found in sorted(by_model.items()):
        component: dict[str, Any] = {
            "type": "machine-learning-model",
            "bom-ref": f"model:{provider}:{model}",
            "name": model,
            "supplier": {"name": PROVIDER_NAMES.get(provider, provider)},
        }
        properties = [_property("shadowmap:provider", provider)]
        model_class = found[0]["attributes"].get("model_id_class")
        if model_class:
            properties.append(_property("shadowmap:bedrock-model-id-class", model_class))
        properties += [_property("shadowmap:call", f"{_place(asset)} {asset['name']}") for asset in found]
        component["properties"] = properties
        components.append(component)
    return components


def _notebooks(notebooks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "type": "file",
            "bom-ref": f"notebook:{asset['scope']}:{asset['attributes']['path']}",
            "name": asset["attributes"]["path"],
            "properties": [
                _property("shadowmap:scope", asset["scope"]),
                *(_property("shadowmap:sdk", sdk) for sdk in asset["attributes"].get("sdks", [])),
                _property("shadowmap:calls", asset["attributes"].get("calls", 0)),
            ],
        }
        for asset in sorted(notebooks, key=lambda item: (item["scope"], item["attributes"]["path"]))
    ]


def _endpoints(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_host: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for asset in calls:
        host = asset["attributes"].get("host")
        if host:
            by_host[(asset["provider"], host)].append(asset)
    services = []
    for (provider, host), found in sorted(by_host.items()):
        service: dict[str, Any] = {
            "bom-ref": f"endpoint:{provider}:{host}",
            "provider": {"name": PROVIDER_NAMES.get(provider, provider)},
            "name": host,
        }
        if "{" not in host:
            service["endpoints"] = [f"https://{host}"]
        routed = {asset["attributes"].get("via_gateway") for asset in found}
        service["x-trust-boundary"] = routed != {True}
        properties = [_property("shadowmap:provider", provider)]
        properties += [_property("shadowmap:sdk", sdk) for sdk in sorted({asset["attributes"].get("sdk") for asset in found})]
        properties.append(_property("shadowmap:via-gateway", ",".join(sorted(str(value).lower() for value in routed))))
        properties += [_property("shadowmap:call", f"{_place(asset)} {asset['name']}") for asset in found]
        service["properties"] = properties
        services.append(service)
    return services


def _iac_services(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    services = []
    for asset in sorted(resources, key=lambda item: (item["scope"], item["attributes"]["path"], item["name"])):
        attributes = asset["attributes"]
        properties = [
            _property("shadowmap:scope", asset["scope"]),
            _property("shadowmap:terraform-file", f"{attributes['path']}:{attributes['line']}"),
            _property("shadowmap:resource-type", attributes["resource_type"]),
        ]
        tag_names = asset["tags"]["original_keys"]
        for key, value in asset["tags"]["values"].items():
            properties.append(_property(f"shadowmap:tag:{tag_names.get(key, key)}", value))
        if attributes.get("model"):
            properties.append(_property("shadowmap:model", attributes["model"]))
        services.append(
            {
                "bom-ref": f"terraform:{asset['scope']}:{attributes['path']}:{attributes['address']}",
                "provider": {"name": PROVIDER_NAMES.get(asset["provider"], asset["provider"])},
                "name": attributes["address"],
                "description": f"Terraform {attributes['resource_kind']}",
                "properties": properties,
            }
        )
    return services


def _mcp_services(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    services = []
    for asset in sorted(servers, key=lambda item: (item["scope"], item["attributes"]["path"], item["name"])):
        attributes = asset["attributes"]
        service: dict[str, Any] = {
            "bom-ref": f"mcp:{asset['scope']}:{attributes['path']}:{asset['name']}",
            "name": asset["name"],
            "description": "MCP server",
        }
        if attributes.get("host"):
            service["endpoints"] = [f"https://{attributes['host']}"]
        properties = [_property("shadowmap:scope", asset["scope"]), _property("shadowmap:config", f"{attributes['path']}:{attributes['line']}")]
        for name in ("transport", "command", "package"):
            if attributes.get(name):
                properties.append(_property(f"shadowmap:{name}", attributes[name]))
        properties += [_property("shadowmap:env-variable", name) for name in attributes.get("env_variables", [])]
        service["properties"] = properties
        services.append(service)
    return services


def _settings(settings: list[dict[str, Any]]) -> list[dict[str, str]]:
    properties = []
    for asset in sorted(settings, key=_place):
        attributes = asset["attributes"]
        detail = attributes.get("host") or attributes.get("model_id") or attributes.get("value_kind")
        properties.append(_property("shadowmap:ai-setting", f"{_place(asset)} {asset['name']} ({detail})"))
    return properties
