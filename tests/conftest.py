"""Settings every test shares."""

from __future__ import annotations

import pytest

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove proxy settings of the machine running the tests, so that requests to the fake
    servers on 127.0.0.1 go straight to them. A test that needs a proxy sets one itself."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
