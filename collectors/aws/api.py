"""Where AWS API responses come from: live through boto3, from a snapshot folder, or live while
recording a snapshot. The parsers see the same dictionaries from all three.

A snapshot contains one JSON file per call, as the AWS CLI prints it: a paginated operation's pages
merged into one result (what `aws bedrock list-inference-profiles` prints), `ResponseMetadata`
left out, times as ISO 8601 strings. A call that failed is saved as botocore's error shape
(`{"Error": {"Code": ..., "Message": ...}}`), so reading a snapshot back meets the same gaps.
Files sit at `<account>/<region or global>/<service>/<operation>.json`, or
`<operation>/<parameters>.json` when the call takes parameters.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session

from collectors.aws.settings import AwsSettings

# Services whose calls are not regional; their snapshot files sit under `global`.
GLOBAL_SERVICES = frozenset({"iam", "organizations", "ce", "sts"})

# Parameters that only move through pages; the snapshot stores the merged result without them.
_PAGE_PARAMETERS = frozenset({"nextToken", "NextToken", "maxResults", "MaxResults", "Marker", "MaxItems", "ContinuationToken", "MaxKeys"})

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._=+-]")


class ApiError(Exception):
    """A call that failed, with the provider's error code (or the botocore exception name)."""

    def __init__(self, service: str, operation: str, code: str, message: str):
        super().__init__(f"{service} {operation}: {code}: {message}")
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Target:
    """The account and region a call is made in."""

    account: str
    region: str


class AwsReader(Protocol):
    """A source of AWS API responses."""

    calls: Counter

    def caller_identity(self) -> dict[str, Any]:
        """Return sts GetCallerIdentity of the credentials the run starts from."""
        ...

    def enter_account(self, account: str) -> None:
        """Prepare credentials for `account`; raise ApiError when they cannot be had."""
        ...

    def call(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def paginate(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def read_object(self, target: Target, bucket: str, key: str) -> bytes: ...


def kebab_operation(operation: str) -> str:
    """`ListInferenceProfiles` becomes `list-inference-profiles`, the AWS CLI command name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", operation).lower()


def snapshot_path(root: Path, target: Target, service: str, operation: str, params: dict[str, Any] | None) -> Path:
    region = "global" if service in GLOBAL_SERVICES else target.region
    folder = root / target.account / region / service
    name = kebab_operation(operation)
    key = _parameter_key(params or {})
    if not key:
        return folder / f"{name}.json"
    return folder / name / f"{key}.json"


def _parameter_key(params: dict[str, Any]) -> str:
    parts = []
    for name in sorted(params):
        if name in _PAGE_PARAMETERS:
            continue
        value = params[name]
        if isinstance(value, (list, tuple)):
            value = "+".join(str(item) for item in value)
        elif isinstance(value, (datetime, date)):
            value = value.isoformat()
        parts.append(f"{name}={value}")
    key = _SAFE_NAME.sub("_", ",".join(parts))
    if len(key) > 150:
        # Keep names within the file system's limits while staying unique.
        key = key[:100] + "~" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return key


def object_snapshot_path(root: Path, target: Target, bucket: str, key: str) -> Path:
    parts = [part for part in key.split("/") if part not in ("", ".", "..")]
    return root.joinpath(target.account, target.region, "s3", "objects", _SAFE_NAME.sub("_", bucket), *parts)


def to_json_value(value: Any) -> Any:
    """Convert a boto3 response to what the AWS CLI prints: times as ISO 8601, bytes left out."""
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat()
    return value


class LiveReader:
    """Calls AWS through boto3 with retries and backoff, one client per account, region and service."""

    def __init__(self, settings: AwsSettings, on_call: Callable[[str, str], None] | None = None):
        self.settings = settings
        self.calls: Counter = Counter()
        self._on_call = on_call
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[str, botocore.session.Session] = {}
        self._account_errors: dict[str, ApiError] = {}
        self._base = boto3.Session(profile_name=settings.profile) if settings.profile else boto3.Session()
        self._loader = self._base._session.get_component("data_loader")
        self._config = botocore.config.Config(
            retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
            max_pool_connections=max(10, settings.concurrency),
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            user_agent_extra="shadowmap",
        )
        self.caller_account: str | None = None

    # Accounts and credentials

    def caller_identity(self) -> dict[str, Any]:
        """Return sts GetCallerIdentity for the base credentials and remember the account."""
        identity = self._invoke(self._base._session, Target("", self.settings.home_region), "sts", "GetCallerIdentity", {})
        self.caller_account = identity["Account"]
        with self._lock:
            self._sessions[self.caller_account] = self._base._session
        return to_json_value(identity)

    def use_starting_credentials_for(self, account: str) -> None:
        """Treat `account` as the account of the starting credentials, as a worker process does
        for the caller account its parent identified."""
        self.caller_account = account
        with self._lock:
            self._sessions[account] = self._base._session

    def enter_account(self, account: str) -> None:
        with self._lock:
            if account in self._sessions:
                return
            if account in self._account_errors:
                raise self._account_errors[account]
        try:
            session = self._assumed_session(account)
        except ApiError as error:
            with self._lock:
                self._account_errors[account] = error
            raise
        with self._lock:
            self._sessions.setdefault(account, session)

    def _assumed_session(self, account: str) -> botocore.session.Session:
        role_arn = f"arn:{self.settings.partition}:iam::{account}:role/{self.settings.role_name}"

        def fetch() -> dict[str, Any]:
            params: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": self.settings.role_session_name,
                "DurationSeconds": self.settings.role_duration_seconds,
            }
            if self.settings.external_id:
                params["ExternalId"] = self.settings.external_id
            response = self._invoke(self._base._session, Target(self.caller_account or "", self.settings.home_region), "sts", "AssumeRole", params)
            credentials = response["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        # Refreshable credentials renew the role session before it expires in a long scan.
        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )
        session = botocore.session.Session()
        session.register_component("data_loader", self._loader)
        session._credentials = credentials  # the documented way to give a session refreshable credentials
        return session

    # Calls

    def call(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return to_json_value(self._invoke(self._session_for(target.account), target, service, operation, params or {}))

    def paginate(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        session = self._session_for(target.account)
        client = self._client(session, target, service)
        params = dict(params or {})
        if operation == "GetLogEvents":
            return to_json_value(self._log_events(client, target, params))
        try:
            paginator = client.get_paginator(botocore_name(operation))
            return to_json_value(paginator.paginate(**params).build_full_result())
        except botocore.exceptions.ClientError as error:
            raise _api_error(service, operation, error) from None
        except botocore.exceptions.BotoCoreError as error:
            raise ApiError(service, operation, type(error).__name__, str(error)) from None

    def read_object(self, target: Target, bucket: str, key: str) -> bytes:
        client = self._client(self._session_for(target.account), target, "s3")
        try:
            response = client.get_object(Bucket=bucket, Key=key)
            return response["Body"].read()
        except botocore.exceptions.ClientError as error:
            raise _api_error("s3", "GetObject", error) from None
        except botocore.exceptions.BotoCoreError as error:
            raise ApiError("s3", "GetObject", type(error).__name__, str(error)) from None

    def _log_events(self, client: Any, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """Read a log stream to its end: GetLogEvents has no paginator, and its last page repeats
        the token it was given."""
        events: list[dict[str, Any]] = []
        token = None
        for _ in range(self.settings.invocation_logs.max_pages):
            page_params = dict(params, startFromHead=True)
            if token:
                page_params["nextToken"] = token
            page = self._invoke_client(client, "logs", "GetLogEvents", page_params)
            events.extend(page.get("events", []))
            next_token = page.get("nextForwardToken")
            if not next_token or next_token == token:
                break
            token = next_token
        return {"events": events}

    def _session_for(self, account: str) -> botocore.session.Session:
        with self._lock:
            session = self._sessions.get(account)
        if session is None:
            self.enter_account(account)
            with self._lock:
                session = self._sessions[account]
        return session

    def _client(self, session: botocore.session.Session, target: Target, service: str) -> Any:
        region = self.settings.home_region if service in GLOBAL_SERVICES else target.region
        cache_key = (str(id(session)), region, service)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                endpoint = self.settings.endpoint_for(service, region)
                client = session.create_client(service, region_name=region, endpoint_url=endpoint, config=self._config)
                client.meta.events.register("before-call", self._count_call)
                self._clients[cache_key] = client
        return client

    def _invoke(self, session: botocore.session.Session, target: Target, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._invoke_client(self._client(session, target, service), service, operation, params)

    def _invoke_client(self, client: Any, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return getattr(client, botocore_name(operation))(**params)
        except botocore.exceptions.ClientError as error:
            raise _api_error(service, operation, error) from None
        except botocore.exceptions.BotoCoreError as error:
            raise ApiError(service, operation, type(error).__name__, str(error)) from None

    def _count_call(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls[f"{service}:{model.name}"] += 1
        if self._on_call is not None:
            self._on_call(service, model.name)


def botocore_name(operation: str) -> str:
    import botocore as botocore_module

    return botocore_module.xform_name(operation)


def _api_error(service: str, operation: str, error: botocore.exceptions.ClientError) -> ApiError:
    details = error.response.get("Error", {})
    return ApiError(service, operation, details.get("Code") or "Unknown", details.get("Message") or str(error))


CALLER_IDENTITY_FILE = "get-caller-identity.json"


class SnapshotReader:
    """Reads the responses of a snapshot folder; a call with no file is a gap, not a failure."""

    def __init__(self, root: Path):
        self.root = root
        self.calls: Counter = Counter()

    def caller_identity(self) -> dict[str, Any]:
        self.calls["sts:GetCallerIdentity"] += 1
        return self._read(self.root / CALLER_IDENTITY_FILE, "sts", "GetCallerIdentity")

    def enter_account(self, account: str) -> None:
        if not (self.root / account).is_dir():
            raise ApiError("sts", "AssumeRole", "NotInSnapshot", f"the snapshot has no folder for account {account}")

    def call(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls[f"{service}:{operation}"] += 1
        return self._read(snapshot_path(self.root, target, service, operation, params), service, operation)

    def paginate(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call(target, service, operation, params)

    def read_object(self, target: Target, bucket: str, key: str) -> bytes:
        self.calls["s3:GetObject"] += 1
        path = object_snapshot_path(self.root, target, bucket, key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ApiError("s3", "GetObject", "NotInSnapshot", f"{path} not found") from None

    def _read(self, path: Path, service: str, operation: str) -> dict[str, Any]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ApiError(service, operation, "NotInSnapshot", f"{path.relative_to(self.root)} not found in the snapshot") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ApiError(service, operation, "InvalidSnapshotFile", f"{path}: invalid JSON at line {error.lineno}") from None
        if not isinstance(document, dict):
            raise ApiError(service, operation, "InvalidSnapshotFile", f"{path}: expected a JSON object")
        error_details = document.get("Error")
        if isinstance(error_details, dict) and "Code" in error_details and len(document) == 1:
            raise ApiError(service, operation, str(error_details["Code"]), str(error_details.get("Message", "")))
        return document


@dataclass
class RecordingReader:
    """Calls live and writes every response, or the error it got, into a snapshot folder."""

    live: LiveReader
    root: Path
    written: list[Path] = field(default_factory=list)

    @property
    def calls(self) -> Counter:
        return self.live.calls

    def caller_identity(self) -> dict[str, Any]:
        identity = to_json_value(self.live.caller_identity())
        self._write(self.root / CALLER_IDENTITY_FILE, identity)
        return identity

    def enter_account(self, account: str) -> None:
        self.live.enter_account(account)

    def call(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._record(target, service, operation, params, self.live.call)

    def paginate(self, target: Target, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._record(target, service, operation, params, self.live.paginate)

    def read_object(self, target: Target, bucket: str, key: str) -> bytes:
        body = self.live.read_object(target, bucket, key)
        path = object_snapshot_path(self.root, target, bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        self.written.append(path)
        return body

    def _record(self, target: Target, service: str, operation: str, params: dict[str, Any] | None, method: Callable) -> dict[str, Any]:
        path = snapshot_path(self.root, target, service, operation, params)
        try:
            response = method(target, service, operation, params)
        except ApiError as error:
            self._write(path, {"Error": {"Code": error.code, "Message": error.message}})
            raise
        self._write(path, response)
        return response

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self.written.append(path)


def decompress(body: bytes) -> bytes:
    """Return the bytes of a log object, gunzipped when they are gzip."""
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
