"""Read-only HTTP access to the OpenAI and Anthropic Admin APIs, shared by both collectors.

One GET with retries on throttling (429) and server errors, honouring Retry-After up to a cap,
and the errors callers turn into a failed run (a missing or rejected admin key) or into a scope
they could not see. A connection that cannot be made is retried only briefly, and after that the
client sends no more requests, because every later one would fail the same way. Each retry is
logged as a WARNING. The admin key is sent in a header and never logged or put in a message.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from scanner.errors import InputError

# 529 is Anthropic's "overloaded" status. The others are the usual transient server errors.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})

# A connection that cannot be made (refused, unknown host, failed TLS handshake, connect timeout)
# is not a sign of load, so waiting longer rarely helps and these get their own short retry budget.
CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)

# Key-shaped text in a provider's error message is cut out before the message is kept: OpenAI's
# 401 message quotes the start and end of the key it was given.
_KEY_TEXT = re.compile(r"sk-[A-Za-z0-9_\-*.…]+")


class AdminKeyError(InputError):
    """The admin key is missing, rejected or lacks access: nothing of the organisation can be read."""


class PageError(Exception):
    """A listing or report that could not be read, confined to one scope; `reason` is one line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AdminApiError(PageError):
    """An error response from the Admin API, or no response at all after every retry."""

    def __init__(self, status: int | None, code: str | None, reason: str):
        super().__init__(reason)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ConnectFailure:
    """The reason no connection to an Admin API could be made, and what the user should check."""

    host: str
    error_name: str
    problem: str
    advice: str
    attempts: int

    def summary(self) -> str:
        return f"cannot connect to {self.host} ({self.error_name}: {self.problem}) after {self.attempts} attempts"


class AdminApiUnreachable(Exception):
    """No connection to the Admin API could be made, so the client sends no later request either.

    Not a PageError: it ends the whole source, not one scope.
    """

    def __init__(self, failure: ConnectFailure):
        super().__init__(failure.summary())
        self.failure = failure


@dataclass(frozen=True)
class AdminKeyHelp:
    """The provider, environment variable and console page a user needs to fix a missing or rejected admin key."""

    provider: str
    variable: str
    create_url: str

    def missing(self) -> str:
        return (
            f"{self.provider}: {self.variable} is not set; create an admin key at {self.create_url} "
            f"and set {self.variable}, or point sources.{self.provider}.snapshot at a recorded snapshot"
        )

    def rejected(self, status: int) -> str:
        if status == 401:
            return (
                f"{self.provider}: the admin key in {self.variable} was rejected (401); create an admin key "
                f"at {self.create_url} and set {self.variable}"
            )
        return (
            f"{self.provider}: the key in {self.variable} was refused ({status}) because it is not an admin key "
            f"or lacks access to the organisation; create an admin key at {self.create_url} and set {self.variable}"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before giving a request up.

    Throttled (429) and failed (5xx) requests, and requests whose response broke off, get
    `max_attempts` attempts, waiting Retry-After or `first_backoff_seconds` doubling each time.
    A connection that cannot be made gets `connect_attempts` attempts, waiting
    `connect_backoff_seconds` doubling each time. Every wait is capped at `max_wait_seconds`.
    """

    max_attempts: int = 5
    max_wait_seconds: float = 60.0
    first_backoff_seconds: float = 1.0
    connect_attempts: int = 3
    connect_backoff_seconds: float = 2.0


def read_admin_key(help_text: AdminKeyHelp) -> str:
    """Return the admin key from its environment variable, or raise AdminKeyError saying what to set."""
    key = os.environ.get(help_text.variable, "").strip()
    if not key:
        raise AdminKeyError(help_text.missing())
    return key


def check_base_url(provider: str, base_url: str) -> str:
    """Return `base_url` without a trailing slash, or raise InputError unless it is https or plain
    http to a loopback address (a local proxy or test server). So the admin key never crosses a
    network in clear text."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return base_url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return base_url.rstrip("/")
    raise InputError(
        f"sources.{provider}.base_url: {base_url!r} is not an https URL; use https, or http only to "
        "127.0.0.1 or localhost"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AdminApiClient:
    """GET requests to one provider's Admin API with its auth headers, retries and backoff.

    `sleep` is injectable so that tests of retries do not wait. One client may serve several
    threads: once a connection could not be made, every thread's next request raises at once.
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        key_help: AdminKeyHelp,
        logger: logging.Logger,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 10.0,
    ):
        self.key_help = key_help
        self.logger = logger
        self.retry = retry
        self.sleep = sleep
        self.connect_timeout_seconds = connect_timeout_seconds
        url = httpx.URL(base_url)
        # A loopback base URL (a local gateway or test server) is reached directly: through a
        # proxy, plain http would carry the admin key across the network in clear text.
        loopback = _is_loopback(url.host)
        self.proxy = None if loopback else environment_proxy(url)
        self._http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
            follow_redirects=False,
            # Proxies (HTTPS_PROXY, NO_PROXY) and CA bundles (SSL_CERT_FILE, SSL_CERT_DIR) come from
            # the environment, as they do for the cloud SDKs, so the client works behind a corporate
            # proxy. A transport of its own keeps the CA bundle but no proxy.
            trust_env=True,
            transport=httpx.HTTPTransport(trust_env=True) if loopback else None,
        )
        self.host = _host_and_port(self._http.base_url)
        self._unreachable: ConnectFailure | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, path: str, params: list[tuple[str, str]], label: str | None = None) -> httpx.Response:
        """Return the successful response to GET `path`, retrying throttled and failed attempts.

        `label` names the request in log lines; it defaults to `path`. Raises AdminKeyError on 401
        and 403, AdminApiUnreachable when no connection could be made by this or an earlier
        request, and AdminApiError on any other error response or when every attempt failed.
        """
        label = label or path
        connect_failures = 0
        failures = 0
        while True:
            self._raise_if_unreachable()
            try:
                response = self._http.get(path, params=params)
            except CONNECT_ERRORS as error:
                connect_failures += 1
                if connect_failures >= self.retry.connect_attempts:
                    raise self._give_up(error, connect_failures) from None
                wait = self._capped(self.retry.connect_backoff_seconds * 2 ** (connect_failures - 1))
                target = f"the proxy {self.proxy.name}" if self.proxy is not None else self.host
                problem = f"cannot connect to {target} ({type(error).__name__})"
                self._log_retry(label, problem, wait, connect_failures + 1, self.retry.connect_attempts)
                self.sleep(wait)
                continue
            except httpx.TransportError as error:
                failures += 1
                problem = f"no response ({type(error).__name__})"
                if failures >= self.retry.max_attempts:
                    raise AdminApiError(
                        None, None, f"{problem} after {failures} attempts; check the network and sources.{self.key_help.provider}.base_url"
                    ) from None
                wait = self._backoff(failures)
                self._log_retry(label, problem, wait, failures + 1, self.retry.max_attempts)
                self.sleep(wait)
                continue

            if response.status_code < 400:
                return response
            if response.status_code in (401, 403):
                raise AdminKeyError(self.key_help.rejected(response.status_code))
            api_error = _api_error(response)
            if response.status_code not in RETRY_STATUSES:
                raise api_error
            failures += 1
            if failures >= self.retry.max_attempts:
                raise AdminApiError(api_error.status, api_error.code, f"{api_error.reason} after {failures} attempts; run again later")
            wait = self._wait_before_retry(response, failures)
            self._log_retry(label, api_error.reason, wait, failures + 1, self.retry.max_attempts)
            self.sleep(wait)

    def _raise_if_unreachable(self) -> None:
        with self._lock:
            failure = self._unreachable
        if failure is not None:
            raise AdminApiUnreachable(failure)

    def _give_up(self, error: httpx.TransportError, attempts: int) -> AdminApiUnreachable:
        """Remember that the Admin API cannot be reached, so that no later request is sent."""
        if self.proxy is not None:
            host = f"the proxy {self.proxy.name} in {self.proxy.variable}"
            problem, advice = _proxy_problem(error, self.proxy, self.host)
        else:
            host = self.host
            problem, advice = _connect_problem(error, self.host, self.key_help.provider, self.connect_timeout_seconds)
        with self._lock:
            if self._unreachable is None:
                self._unreachable = ConnectFailure(host, type(error).__name__, problem, advice, attempts)
            return AdminApiUnreachable(self._unreachable)

    def _log_retry(self, label: str, problem: str, wait: float, next_attempt: int, attempts: int) -> None:
        """Log one WARNING per retry, marked `live` because the user is waiting for it now."""
        # NOTE: `shadowmap scan` keeps warnings back until the run ends and drops them when every
        # source failed; printing records marked `live` at once needs a change in scanner/cli.py.
        self.logger.warning(
            "%s: %s: %s; retrying in %s s (attempt %d of %d)",
            self.key_help.provider, label, problem, _seconds_text(wait), next_attempt, attempts,
            extra={"live": True},
        )

    def _wait_before_retry(self, response: httpx.Response, attempt: int) -> float:
        asked = _retry_after_seconds(response.headers.get("retry-after"))
        return self._capped(asked if asked is not None else self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        return self._capped(self.retry.first_backoff_seconds * 2 ** (attempt - 1))

    def _capped(self, wait: float) -> float:
        return min(max(wait, 0.0), self.retry.max_wait_seconds)


def _host_and_port(url: httpx.URL) -> str:
    """Return the host of `url` as a user would type it, with the port when the URL names one."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port is not None else host


def _connect_problem(error: httpx.TransportError, host: str, provider: str, connect_timeout_seconds: float) -> tuple[str, str]:
    """Return what went wrong with a connection attempt, in a few words, and what the user should check."""
    setting = f"sources.{provider}.base_url"
    if isinstance(error, httpx.ConnectTimeout):
        return (
            f"no connection within {_seconds_text(connect_timeout_seconds)} s",
            f"check that this machine can reach {host} through any firewall on the way, and {setting}",
        )

    cause = _root_cause(error)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused", f"check that {setting} names the right host and port, and that the server there is running"
    if isinstance(cause, socket.gaierror):
        return "host name not found", f"check the host name in {setting} and the DNS settings of this machine"
    if isinstance(cause, ssl.SSLError):
        # httpx verifies against certifi's bundle unless SSL_CERT_FILE or SSL_CERT_DIR names another.
        return (
            "TLS handshake failed",
            f"check that {host} serves HTTPS with a certificate from a public certificate authority, or set SSL_CERT_FILE "
            f"to the CA bundle of a proxy that inspects TLS, and check {setting}",
        )
    return "no connection", f"check the network and {setting}"


@dataclass(frozen=True)
class EnvironmentProxy:
    """The proxy the environment sets for a URL: the variable that sets it and its host and port."""

    variable: str
    name: str


def environment_proxy(url: httpx.URL) -> EnvironmentProxy | None:
    """Return the proxy that HTTPS_PROXY, HTTP_PROXY or ALL_PROXY (either letter case) sets for
    `url`, unless NO_PROXY exempts its host, as httpx reads them."""
    if urllib.request.proxy_bypass_environment(url.host):
        return None
    scheme_variable = "HTTPS_PROXY" if url.scheme == "https" else "HTTP_PROXY"
    for variable in (scheme_variable, scheme_variable.lower(), "ALL_PROXY", "all_proxy"):
        value = os.environ.get(variable, "").strip()
        if value:
            proxy = httpx.URL(value if "://" in value else f"http://{value}")
            return EnvironmentProxy(variable, _host_and_port(proxy))
    return None


def _proxy_problem(error: httpx.TransportError, proxy: EnvironmentProxy, host: str) -> tuple[str, str]:
    """Return what went wrong on the way through a proxy, and what to check."""
    advice = (
        f"check that {proxy.variable} names a running proxy that may reach {host}, or add {host.split(':')[0]} "
        "to NO_PROXY to connect directly"
    )
    if isinstance(error, httpx.ProxyError):
        return f"the proxy refused the connection ({error})", advice
    if isinstance(_root_cause(error), ConnectionRefusedError):
        return "connection refused", advice
    return "no connection", advice


def _root_cause(error: BaseException) -> BaseException:
    """Return the innermost exception behind `error`: httpx wraps httpcore's, which wraps the OSError."""
    seen = {id(error)}
    while True:
        inner = error.__cause__ or error.__context__
        if inner is None or id(inner) in seen:
            return error
        seen.add(id(inner))
        error = inner


def _seconds_text(seconds: float) -> str:
    """Format a wait as `2` or `0.5`, without a trailing `.0`."""
    return f"{seconds:.1f}".removesuffix(".0")


def _retry_after_seconds(value: str | None) -> float | None:
    """Read Retry-After as seconds or as an HTTP date (RFC 9110, section 10.2.3)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


def _api_error(response: httpx.Response) -> AdminApiError:
    """Build the error of a failed response: its status and the provider's error code and message, without key text."""
    code, message = None, None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        # OpenAI: {"error": {"code", "type", "message"}}; Anthropic: {"type": "error", "error": {"type", "message"}}
        detail = body["error"]
        code = detail.get("code") or detail.get("type")
        message = detail.get("message")
    reason = f"{response.status_code} {code or response.reason_phrase}"
    if isinstance(message, str) and message.strip():
        reason += f": {_without_key_text(message.strip())[:200]}"
    return AdminApiError(response.status_code, code, reason)


def _without_key_text(text: str) -> str:
    return _KEY_TEXT.sub("[key]", text)


def parse_json(content: bytes) -> Any:
    """Parse an Admin API body with every JSON fraction as Decimal, so money never passes through float."""
    return json.loads(content, parse_float=Decimal)
