"""Read-only HTTP access to the OpenAI and Anthropic Admin APIs, shared by both collectors.

One GET with retries on throttling (429) and server errors, honouring Retry-After up to a cap,
and the errors callers turn into a failed run (a missing or rejected admin key) or into a scope
they could not see. The admin key is sent in a header and never logged or put in a message.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from scanner.errors import InputError

# 529 is Anthropic's "overloaded" status. The others are the usual transient server errors.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})

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
    """How often and how long to wait before giving a throttled or failing request up."""

    max_attempts: int = 5
    max_wait_seconds: float = 60.0
    first_backoff_seconds: float = 1.0


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

    `sleep` is injectable so that tests of Retry-After handling do not wait.
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
    ):
        self.key_help = key_help
        self.logger = logger
        self.retry = retry
        self.sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        """Return the successful response to GET `path`, retrying throttled and failed attempts.

        Raises AdminKeyError on 401 and 403, and AdminApiError on any other error response or when
        every attempt failed.
        """
        provider = self.key_help.provider
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as error:
                problem = f"no response ({type(error).__name__})"
                if attempt == self.retry.max_attempts:
                    raise AdminApiError(None, None, f"{problem} after {attempt} attempts; check the network and base_url") from None
                wait = self._backoff(attempt)
                self.logger.info("%s: GET %s: %s; retrying in %.1f s (attempt %d of %d)", provider, path, problem, wait, attempt, self.retry.max_attempts)
                self.sleep(wait)
                continue

            if response.status_code < 400:
                return response
            if response.status_code in (401, 403):
                raise AdminKeyError(self.key_help.rejected(response.status_code))
            if response.status_code not in RETRY_STATUSES:
                raise _api_error(response)
            if attempt == self.retry.max_attempts:
                error = _api_error(response)
                raise AdminApiError(error.status, error.code, f"{error.reason} after {attempt} attempts; run again later")

            wait = self._wait_before_retry(response, attempt)
            self.logger.info(
                "%s: GET %s returned %d; retrying in %.1f s (attempt %d of %d)",
                provider, path, response.status_code, wait, attempt, self.retry.max_attempts,
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises on its last attempt")

    def _wait_before_retry(self, response: httpx.Response, attempt: int) -> float:
        asked = _retry_after_seconds(response.headers.get("retry-after"))
        wait = asked if asked is not None else self._backoff(attempt)
        return min(max(wait, 0.0), self.retry.max_wait_seconds)

    def _backoff(self, attempt: int) -> float:
        return min(self.retry.first_backoff_seconds * 2 ** (attempt - 1), self.retry.max_wait_seconds)


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
