"""A local AWS endpoint for the operations moto lacks, and the tests that it speaks botocore's
protocols.

`FakeAws` is an HTTP server on 127.0.0.1 that boto3 reaches through `endpoint_url`
(`{url}/{service}`, one path prefix per service). It returns the canned responses it was given
for the operations (ListInferenceProfiles, GetInferenceProfile, ListTagsForResource, ListCostAllocationTags,
bedrock-agent aliases and versions...) in the shapes of botocore's service model: restJson for
bedrock and bedrock-agent, JSON 1.1 for ce and organizations. It pages every operation that has
a botocore paginator, so the collector's pagination is exercised. Every other request is
forwarded unchanged to a moto server, which keeps IAM, STS, Organizations, S3, CloudWatch Logs,
EC2 and the Bedrock operations moto implements. The account of a request is the one moto maps
its access key to (assumed-role keys map to the role's account), so one fake serves many
accounts. `latency` adds a fixed delay to every response, forwarded ones included.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import boto3
import botocore.session
import pytest

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_MODEL_SESSION = botocore.session.get_session()


@dataclass(frozen=True)
class RawResponse:
    """A response body sent as it is, for the XML protocols (EC2, IAM, STS)."""

    body: bytes
    content_type: str = "text/xml"


def describe_regions_response(statuses: dict[str, str]) -> RawResponse:
    """ec2 DescribeRegions as EC2 writes it, for regions and their opt-in status."""
    items = "".join(
        f"<item><regionName>{name}</regionName><regionEndpoint>ec2.{name}.amazonaws.com</regionEndpoint>"
        f"<optInStatus>{status}</optInStatus></item>"
        for name, status in statuses.items()
    )
    xml = f'<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><regionInfo>{items}</regionInfo></DescribeRegionsResponse>'
    return RawResponse(xml.encode())


@dataclass
class CannedError:
    code: str
    status: int
    message: str
    remaining: int | None  # None: every time


class FakeAws:
    """The fake endpoint; see the module docstring."""

    def __init__(self, moto_url: str | None = None, latency: float = 0.0, page_size: int = 2):
        self.moto_url = moto_url
        self.latency = latency
        self.page_size = page_size
        self.calls: Counter = Counter()
        self.responses: dict[tuple, Any] = {}
        self.errors: dict[tuple, CannedError] = {}
        self._accounts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._routes = {service: _routes(service) for service in ("bedrock", "bedrock-agent")}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # Setup

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoints(self, services: tuple[str, ...] = ("bedrock", "bedrock-agent", "ce", "sts", "iam", "organizations", "ec2", "s3", "logs")) -> dict[str, str]:
        return {service: f"{self.url}/{service}" for service in services}

    def start(self) -> FakeAws:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, service: str, operation: str, response: Any, account: str | None = None, region: str | None = None) -> None:
        """Return `response` for `operation`: a dict, or a function of the request parameters
        that returns one. For an operation with a paginator, the full result list is paged."""
        self.responses[(service, operation, account, region)] = response

    def fail(self, service: str, operation: str, code: str, status: int = 400, account: str | None = None,
             region: str | None = None, times: int | None = None, message: str = "") -> None:
        self.errors[(service, operation, account, region)] = CannedError(code, status, message or code, times)

    # Serving

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes. With Nagle's algorithm on, the second write
            # waits for the client's delayed ACK (about 40 ms) on a kept-alive connection.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

            def log_message(self, *args: Any) -> None:
                return None

        return Handler

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(request.path)
        service, _, rest = parsed.path.lstrip("/").partition("/")
        path = "/" + rest
        if self.latency:
            time.sleep(self.latency)

        match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
        access_key, region = (match.group(1), match.group(2)) if match else ("", "us-east-1")
        operation, params = self._operation(service, request.command, path, parsed.query, request.headers, body)
        account = self._account(access_key, request.headers.get("Authorization", "")) if operation else ""
        if operation:
            with self._lock:
                self.calls[(account, region, service, operation)] += 1

        error = self._error(service, operation, account, region) if operation else None
        if error is not None:
            self._send_error(request, service, error)
            return
        canned = self._canned(service, operation, account, region) if operation else None
        if isinstance(canned, RawResponse):
            self._send(request, 200, {"Content-Type": canned.content_type}, canned.body)
            return
        if canned is not None:
            document = self._page(service, operation, canned(params) if callable(canned) else canned, params)
            self._send(request, 200, {"Content-Type": "application/x-amz-json-1.1" if service not in self._routes else "application/json"},
                       json.dumps(document, default=str).encode())
            return
        self._forward(request, path, parsed.query, body)

    def _operation(self, service: str, method: str, path: str, query: str, headers: Any, body: bytes) -> tuple[str | None, dict[str, Any]]:
        """Find the botocore operation a request is for, and its input parameters."""
        target = headers.get("X-Amz-Target")
        if target:
            try:
                params = json.loads(body or b"{}")
            except json.JSONDecodeError:
                params = {}
            return target.rsplit(".", 1)[-1], params
        if service in ("sts", "iam", "ec2") and method == "POST":
            form = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"))
            if "Action" in form:
                return form["Action"][0], {key: values[0] for key, values in form.items()}
        for operation, http_method, pattern, model in self._routes.get(service, []):
            found = pattern.match(path)
            if found is None or http_method != method:
                continue
            return operation, _rest_params(model, found, query, body)
        return None, {}

    def _account(self, access_key: str, authorization: str) -> str:
        with self._lock:
            if access_key in self._accounts:
                return self._accounts[access_key]
        account = "123456789012"
        if self.moto_url:
            request = urllib.request.Request(
                f"{self.moto_url}/",
                data=b"Action=GetCallerIdentity&Version=2011-06-15",
                headers={"Authorization": re.sub(r"(Credential=[^/]+/\d{8}/[^/]+/)[^/]+/", r"\1sts/", authorization),
                         "Content-Type": "application/x-www-form-urlencoded"},
            )
            with urllib.request.urlopen(request) as response:  # noqa: S310 - the local moto server
                found = re.search(rb"<Account>(\d+)</Account>", response.read())
            if found:
                account = found.group(1).decode()
        with self._lock:
            self._accounts[access_key] = account
        return account

    def _lookup(self, table: dict[tuple, Any], service: str, operation: str, account: str, region: str) -> Any:
        for key in ((service, operation, account, region), (service, operation, account, None), (service, operation, None, region), (service, operation, None, None)):
            if key in table:
                return table[key]
        return None

    def _canned(self, service: str, operation: str, account: str, region: str) -> Any:
        return self._lookup(self.responses, service, operation, account, region)

    def _error(self, service: str, operation: str, account: str, region: str) -> CannedError | None:
        with self._lock:
            error = self._lookup(self.errors, service, operation, account, region)
            if error is None or error.remaining == 0:
                return None
            if error.remaining is not None:
                error.remaining -= 1
            return error

    def _page(self, service: str, operation: str, full: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        config = _paginator(service, operation)
        if not config or not isinstance(full.get(config["result_key"]), list):
            return full
        items = full[config["result_key"]]
        offset = int(params.get(config["input_token"]) or 0)
        size = min(int(params.get(config.get("limit_key", ""), 0) or self.page_size), self.page_size)
        page = dict(full)
        page[config["result_key"]] = items[offset : offset + size]
        if offset + size < len(items):
            page[config["output_token"]] = str(offset + size)
        return page

    def _send_error(self, request: BaseHTTPRequestHandler, service: str, error: CannedError) -> None:
        if service in ("sts", "iam", "ec2"):
            headers = {"Content-Type": "text/xml"}
            if service == "ec2":
                xml = f"<Response><Errors><Error><Code>{error.code}</Code><Message>{error.message}</Message></Error></Errors><RequestID>1</RequestID></Response>"
            else:
                xml = f"<ErrorResponse><Error><Type>Sender</Type><Code>{error.code}</Code><Message>{error.message}</Message></Error></ErrorResponse>"
            self._send(request, error.status, headers, xml.encode())
            return
        if service in self._routes:
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.code}
            body = {"message": error.message}
        else:
            headers = {"Content-Type": "application/x-amz-json-1.1"}
            body = {"__type": error.code, "message": error.message}
        self._send(request, error.status, headers, json.dumps(body).encode())

    def _forward(self, request: BaseHTTPRequestHandler, path: str, query: str, body: bytes) -> None:
        if not self.moto_url:
            self._send(request, 404, {"Content-Type": "application/json", "x-amzn-ErrorType": "UnknownOperationException"}, b"{}")
            return
        url = f"{self.moto_url}{path}" + (f"?{query}" if query else "")
        headers = {key: value for key, value in request.headers.items() if key.lower() not in ("host", "content-length", "connection")}
        forwarded = urllib.request.Request(url, data=body if request.command in ("POST", "PUT") else None, headers=headers, method=request.command)
        try:
            with urllib.request.urlopen(forwarded) as response:  # noqa: S310 - the local moto server
                status, response_headers, payload = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, response_headers, payload = error.code, dict(error.headers), error.read()
        kept = {key: value for key, value in response_headers.items() if key.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date")}
        self._send(request, status, kept, payload)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)


def _routes(service: str) -> list[tuple[str, str, re.Pattern, Any]]:
    """Method and path pattern of every restJson operation of a botocore service model."""
    model = _MODEL_SESSION.get_service_model(service)
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"].split("?", 1)[0]
        pattern = re.sub(r"\\\{(\w+)(?:\\\+)?\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(uri))
        routes.append((name, operation.http["method"], re.compile(f"^{pattern.rstrip('/')}/?$"), operation))
    # Literal paths before templated ones, so /agents/ is not read as /agents/{agentId}/.
    return sorted(routes, key=lambda route: route[2].pattern.count("(?P<"))


def _rest_params(operation: Any, found: re.Match, query: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if operation.input_shape is None:
        return params
    query_values = urllib.parse.parse_qs(query)
    try:
        document = json.loads(body) if body else {}
    except json.JSONDecodeError:
        document = {}
    for name, shape in operation.input_shape.members.items():
        location = shape.serialization.get("location")
        wire_name = shape.serialization.get("name", name)
        if location == "uri":
            params[name] = urllib.parse.unquote(found.group(wire_name))
        elif location == "querystring" and wire_name in query_values:
            params[name] = query_values[wire_name][0]
        elif location is None and name in document:
            params[name] = document[name]
    return params


def _paginator(service: str, operation: str) -> dict[str, Any] | None:
    try:
        return _MODEL_SESSION.get_paginator_model(service).get_paginator(operation)
    except (ValueError, Exception):  # noqa: BLE001 - no paginator for the operation
        return None


def fake_aws_client(fake: FakeAws, service: str, region: str = "us-east-1", **credentials: str) -> Any:
    """A boto3 client that reaches the fake, with test credentials unless others are given."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=f"{fake.url}/{service}",
        aws_access_key_id=credentials.get("aws_access_key_id", "AKIAFAKETESTKEY00001"),
        aws_secret_access_key=credentials.get("aws_secret_access_key", "fake-secret"),
        aws_session_token=credentials.get("aws_session_token"),
    )


# Tests of the fake itself: boto3 parses its responses and pages through them.


@pytest.fixture
def fake() -> Callable[..., FakeAws]:
    started: list[FakeAws] = []

    def make(**options: Any) -> FakeAws:
        server = FakeAws(**options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def test_fake_pages_inference_profiles(fake, monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    server = fake(page_size=2)
    summaries = [{"inferenceProfileId": f"us.model-{index}", "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:1:inference-profile/us.model-{index}",
                  "inferenceProfileName": f"m{index}", "models": [], "status": "ACTIVE", "type": "SYSTEM_DEFINED"} for index in range(5)]
    server.respond("bedrock", "ListInferenceProfiles", {"inferenceProfileSummaries": summaries})
    client = fake_aws_client(server, "bedrock")

    pages = list(client.get_paginator("list_inference_profiles").paginate(typeEquals="SYSTEM_DEFINED"))

    assert len(pages) == 3
    assert [item["inferenceProfileId"] for page in pages for item in page["inferenceProfileSummaries"]] == [f"us.model-{i}" for i in range(5)]


def test_fake_reads_uri_and_query_parameters(fake):
    server = fake()
    seen: list[dict[str, Any]] = []
    server.respond("bedrock", "GetInferenceProfile", lambda params: seen.append(params) or {"inferenceProfileArn": params["inferenceProfileIdentifier"]})
    client = fake_aws_client(server, "bedrock")
    arn = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123"

    response = client.get_inference_profile(inferenceProfileIdentifier=arn)

    assert response["inferenceProfileArn"] == arn
    assert seen == [{"inferenceProfileIdentifier": arn}]


def test_fake_json_errors_reach_botocore(fake):
    server = fake()
    server.fail("ce", "ListCostAllocationTags", "AccessDeniedException")
    client = fake_aws_client(server, "ce")

    with pytest.raises(client.exceptions.ClientError) as raised:
        client.list_cost_allocation_tags()

    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_fake_rest_errors_reach_botocore(fake):
    server = fake()
    server.fail("bedrock-agent", "ListAgentAliases", "ResourceNotFoundException", status=404)
    client = fake_aws_client(server, "bedrock-agent")

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_agent_aliases(agentId="AGENT12345")
