"""Azure Resource Manager responses, read live through the Azure SDK or back from a snapshot folder.

Both readers return the raw JSON bodies of list responses, one per page, so that one parser serves
live runs, snapshots and tests. Each call names a path in the snapshot layout:

    subscriptions.json                                        GET /subscriptions
    subscriptions/<sub>/accounts.json                         Cognitive Services accounts
    subscriptions/<sub>/resourcegroups.json                   resource groups and their tags
    subscriptions/<sub>/apim.json                             API Management services (generic list)
    subscriptions/<sub>/apim/<rg>/<service>.backends.json     an API Management service's backends
    subscriptions/<sub>/deployments/<rg>/<account>.json       an account's deployments
    metrics/<sub>/<rg>/<resource>.json                        an Azure Monitor metrics response

A second page of a list is saved beside the first as `<name>.2.json`, and so on. A file may also
hold what `az ... list` prints (a bare JSON array). A call that failed is saved as
`<name>.error.json` holding the ARM error body, so that a snapshot replays the same scope gaps.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import urlencode

Page = dict[str, Any]

SUBSCRIPTIONS_API_VERSION = "2022-12-01"
APIM_API_VERSION = "2022-08-01"
METRICS_API_VERSION = "2023-10-01"
APIM_RESOURCE_TYPE = "Microsoft.ApiManagement/service"
# A throwaway subscription ID for the client that lists subscriptions: that call takes none.
NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


class ArmError(Exception):
    """A failed ARM call, with the provider's error code (such as AuthorizationFailed)."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def from_body(cls, body: Any, status: int | None) -> ArmError:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(str(error.get("code") or f"HTTP{status}"), str(error.get("message") or ""), status)
        return cls(f"HTTP{status}" if status else "UnknownError", "the response carried no ARM error body", status)

    def describe(self) -> str:
        """Return the provider's error code alone, the same whether read live or from a snapshot."""
        return self.code


def parse_json(text: str) -> Any:
    """Parse a response body with every number as Decimal, so token counts never pass through float."""
    return json.loads(text, parse_float=Decimal)


def subscription_path(subscription_id: str, name: str) -> str:
    return f"subscriptions/{subscription_id.lower()}/{name}"


def deployments_path(subscription_id: str, resource_group: str, account: str) -> str:
    return subscription_path(subscription_id, f"deployments/{resource_group.lower()}/{account.lower()}.json")


def backends_path(subscription_id: str, resource_group: str, service: str) -> str:
    return subscription_path(subscription_id, f"apim/{resource_group.lower()}/{service.lower()}.backends.json")


def metrics_path(resource_id: str) -> str:
    parts = parse_resource_id(resource_id)
    return f"metrics/{parts.subscription_id}/{parts.resource_group}/{parts.name}.json"


@dataclass(frozen=True)
class ResourceIdParts:
    subscription_id: str
    resource_group: str
    name: str


def parse_resource_id(resource_id: str) -> ResourceIdParts:
    """Split an ARM resource ID into lower-case subscription, resource group and last name."""
    segments = [segment for segment in resource_id.strip().split("/") if segment]
    lowered = [segment.lower() for segment in segments]
    try:
        subscription = lowered[lowered.index("subscriptions") + 1]
        group = lowered[lowered.index("resourcegroups") + 1]
    except (ValueError, IndexError):
        raise ValueError(f"{resource_id!r} is not an ARM resource ID with a subscription and resource group") from None
    return ResourceIdParts(subscription, group, lowered[-1])


class ArmSource(Protocol):
    """The ARM reads the Azure collector makes; each returns the pages of one list response."""

    def subscriptions(self) -> list[Page]: ...

    def accounts(self, subscription_id: str) -> list[Page]: ...

    def resource_groups(self, subscription_id: str) -> list[Page]: ...

    def api_management_services(self, subscription_id: str) -> list[Page]: ...

    def api_management_backends(self, service_id: str) -> list[Page]: ...

    def deployments(self, account_id: str) -> list[Page]: ...

    def metrics(self, resource_id: str, query: dict[str, str]) -> Page: ...


class SnapshotArm:
    """ARM responses saved in a folder, in the layout this module's docstring describes."""

    def __init__(self, folder: Path):
        self.folder = folder

    def subscriptions(self) -> list[Page]:
        if not (self.folder / "subscriptions.json").exists():
            # A snapshot made by hand may hold only subscription folders.
            folder = self.folder / "subscriptions"
            names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
            return [{"value": [{"subscriptionId": name, "displayName": name} for name in names]}]
        return self._pages("subscriptions.json")

    def accounts(self, subscription_id: str) -> list[Page]:
        return self._pages(subscription_path(subscription_id, "accounts.json"))

    def resource_groups(self, subscription_id: str) -> list[Page]:
        return self._pages(subscription_path(subscription_id, "resourcegroups.json"), optional=True)

    def api_management_services(self, subscription_id: str) -> list[Page]:
        return self._pages(subscription_path(subscription_id, "apim.json"), optional=True)

    def api_management_backends(self, service_id: str) -> list[Page]:
        parts = parse_resource_id(service_id)
        return self._pages(backends_path(parts.subscription_id, parts.resource_group, parts.name), optional=True)

    def deployments(self, account_id: str) -> list[Page]:
        parts = parse_resource_id(account_id)
        return self._pages(deployments_path(parts.subscription_id, parts.resource_group, parts.name))

    def metrics(self, resource_id: str, query: dict[str, str]) -> Page:
        return self._pages(metrics_path(resource_id))[0]

    def _pages(self, relative: str, optional: bool = False) -> list[Page]:
        path = self.folder / relative
        error_path = path.with_name(path.name[: -len(".json")] + ".error.json")
        if error_path.exists():
            raise ArmError.from_body(self._load(error_path), None)
        if not path.exists():
            if optional:
                return [{"value": []}]
            raise ArmError("NotInSnapshot", f"{path} is missing from the snapshot")

        pages = [self._load(path)]
        number = 2
        while (next_path := path.with_name(f"{path.name[: -len('.json')]}.{number}.json")).exists():
            pages.append(self._load(next_path))
            number += 1
        return [page if isinstance(page, dict) else {"value": page} for page in pages]

    @staticmethod
    def _load(path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ArmError("InvalidSnapshotFile", f"{path} is not UTF-8 text, so not valid JSON") from None
        except OSError as error:
            raise ArmError("InvalidSnapshotFile", f"{path} cannot be read ({error.strerror or error})") from None
        try:
            return parse_json(text)
        except json.JSONDecodeError as error:
            raise ArmError("InvalidSnapshotFile", f"{path} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None


# Called with a snapshot path and the response body exactly as the API returned it.
Recorder = Callable[[str, str], None]


class LiveArm:
    """ARM read through the Azure SDK clients (azure-mgmt-resource, azure-mgmt-cognitiveservices).

    Typed list operations page through `nextLink` inside the SDK; a response hook keeps each page's
    raw body. Calls that no installed client wraps (subscriptions, API Management backends, Azure
    Monitor metrics) go through the same authenticated pipeline with `send_request`. The SDK's
    retry policy retries throttling (429) and server errors with exponential backoff and honours
    Retry-After.
    """

    def __init__(
        self,
        credential: Any,
        endpoint: str,
        client_options: dict[str, Any] | None = None,
        recorder: Recorder | None = None,
    ):
        self.endpoint = endpoint.rstrip("/")
        self._credential = credential
        self._client_options = dict(client_options or {})
        self._recorder = recorder
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    # Clients, one per kind and subscription, made on first use.

    def _resource_client(self, subscription_id: str) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._client(ResourceManagementClient, subscription_id)

    def _cognitive_client(self, subscription_id: str) -> Any:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        return self._client(CognitiveServicesManagementClient, subscription_id)

    def _client(self, client_class: type, subscription_id: str) -> Any:
        key = (client_class.__name__, subscription_id)
        with self._lock:
            if key not in self._clients:
                client = client_class(
                    self._credential,
                    subscription_id,
                    base_url=self.endpoint,
                    credential_scopes=[f"{self.endpoint}/.default"],
                    **self._client_options,
                )
                remove_provider_registration(client)
                self._clients[key] = client
            return self._clients[key]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # The reads.

    def subscriptions(self) -> list[Page]:
        client = self._resource_client(NO_SUBSCRIPTION)
        url = f"{self.endpoint}/subscriptions?api-version={SUBSCRIPTIONS_API_VERSION}"
        return self._send_pages(client, url, "subscriptions.json")

    def accounts(self, subscription_id: str) -> list[Page]:
        client = self._cognitive_client(subscription_id)
        return self._sdk_pages(client.accounts.list, subscription_path(subscription_id, "accounts.json"))

    def resource_groups(self, subscription_id: str) -> list[Page]:
        client = self._resource_client(subscription_id)
        return self._sdk_pages(client.resource_groups.list, subscription_path(subscription_id, "resourcegroups.json"))

    def api_management_services(self, subscription_id: str) -> list[Page]:
        client = self._resource_client(subscription_id)
        return self._sdk_pages(
            lambda **kwargs: client.resources.list(filter=f"resourceType eq '{APIM_RESOURCE_TYPE}'", **kwargs),
            subscription_path(subscription_id, "apim.json"),
        )

    def api_management_backends(self, service_id: str) -> list[Page]:
        parts = parse_resource_id(service_id)
        client = self._resource_client(parts.subscription_id)
        url = f"{self.endpoint}{service_id}/backends?api-version={APIM_API_VERSION}"
        return self._send_pages(client, url, backends_path(parts.subscription_id, parts.resource_group, parts.name))

    def deployments(self, account_id: str) -> list[Page]:
        parts = parse_resource_id(account_id)
        client = self._cognitive_client(parts.subscription_id)
        account_name = account_id.rstrip("/").split("/")[-1]
        group = _segment_after(account_id, "resourcegroups")
        return self._sdk_pages(
            lambda **kwargs: client.deployments.list(group, account_name, **kwargs),
            deployments_path(parts.subscription_id, parts.resource_group, parts.name),
        )

    def metrics(self, resource_id: str, query: dict[str, str]) -> Page:
        parts = parse_resource_id(resource_id)
        client = self._resource_client(parts.subscription_id)
        parameters = {"api-version": METRICS_API_VERSION, **query}
        url = f"{self.endpoint}{resource_id}/providers/Microsoft.Insights/metrics?{urlencode(parameters)}"
        return self._send_pages(client, url, metrics_path(resource_id))[0]

    # Paging and recording.

    def _sdk_pages(self, list_operation: Callable[..., Any], relative: str) -> list[Page]:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        texts: list[str] = []

        def keep_page(pipeline_response: Any) -> None:
            response = pipeline_response.http_response
            if response.status_code == 200:
                texts.append(response.text())

        try:
            for _ in list_operation(raw_response_hook=keep_page):
                pass
        except (ClientAuthenticationError, HttpResponseError) as error:
            raise self._failure(relative, error) from None

        self._record_pages(relative, texts)
        return [parse_json(text) for text in texts]

    def _send_pages(self, client: Any, url: str, relative: str) -> list[Page]:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
        from azure.core.rest import HttpRequest

        texts: list[str] = []
        next_url: str | None = url
        while next_url:
            try:
                response = client.send_request(HttpRequest("GET", next_url))
            except (ClientAuthenticationError, HttpResponseError) as error:
                raise self._failure(relative, error) from None

            text = response.text()
            if response.status_code != 200:
                failure = ArmError.from_body(_parse_or_none(text), response.status_code)
                self._record(relative, ".error.json", text or _error_text(failure))
                raise failure
            body = parse_json(text)
            texts.append(text)
            next_url = (body.get("nextLink") or body.get("@odata.nextLink")) if isinstance(body, dict) else None

        self._record_pages(relative, texts)
        return [parse_json(text) for text in texts]

    def _failure(self, relative: str, error: Exception) -> ArmError:
        """Turn an SDK exception into an ArmError and record the error body it carried."""
        status = getattr(error, "status_code", None)
        response = getattr(error, "response", None)
        text = ""
        if response is not None:
            try:
                text = response.text()
            except Exception:  # noqa: BLE001 - a body that cannot be read leaves only the status
                text = ""
        if status or text:
            body = _parse_or_none(text)
            failure = ArmError.from_body(body, status)
            if body is None or failure.code.startswith("HTTP"):
                detail = getattr(error, "error", None)
                code = getattr(detail, "code", None)
                message = str(getattr(error, "message", error)).strip().splitlines()
                failure = ArmError(str(code or f"HTTP{status}"), message[0] if message else "", status)
        else:
            message = str(error).strip().splitlines()
            failure = ArmError("CredentialUnavailable", message[0] if message else type(error).__name__)
        self._record(relative, ".error.json", text or _error_text(failure))
        return failure

    def _record_pages(self, relative: str, texts: list[str]) -> None:
        for number, text in enumerate(texts, start=1):
            self._record(relative, ".json" if number == 1 else f".{number}.json", text)

    def _record(self, relative: str, suffix: str, text: str) -> None:
        if self._recorder is not None:
            self._recorder(relative[: -len(".json")] + suffix, text)


def _parse_or_none(text: str) -> Any:
    try:
        return parse_json(text) if text else None
    except ValueError:
        return None


def _error_text(failure: ArmError) -> str:
    return json.dumps({"error": {"code": failure.code, "message": failure.message}}, indent=2)


def _segment_after(resource_id: str, name: str) -> str:
    """Return the path segment after `name` in `resource_id`, in its original case."""
    segments = [segment for segment in resource_id.split("/") if segment]
    for index, segment in enumerate(segments[:-1]):
        if segment.lower() == name:
            return segments[index + 1]
    raise ValueError(f"{resource_id!r} has no {name} segment")


def remove_provider_registration(client: Any) -> None:
    """Take ARMAutoResourceProviderRegistrationPolicy out of a management client's pipeline.

    On a 409 MissingSubscriptionRegistration that policy registers the resource provider in the
    subscription, which is a write; shadowmap makes read-only calls only, so the 409 must reach
    the collector as a scope not seen. azure-mgmt clients add the policy unconditionally, so it
    is unlinked from the built pipeline (azure-core chains policies through `next`).
    """
    from azure.mgmt.core.policies import ARMAutoResourceProviderRegistrationPolicy

    pipeline = client._client._pipeline
    policies = pipeline._impl_policies
    for index, policy in enumerate(policies):
        if isinstance(policy, ARMAutoResourceProviderRegistrationPolicy):
            if index == 0:
                raise RuntimeError("cannot unlink the provider registration policy: it is first in the pipeline")
            policies[index - 1].next = policy.next
            del policies[index]
            return
