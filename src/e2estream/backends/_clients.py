"""The HTTP client a backend talks through: an ``httpx`` or an ``httpx2`` ``AsyncClient``.

httpx2 is httpx carried on under a new name (the same API, its own classes): the OpenAI
and Anthropic SDKs use it, so a host may hold either kind of client, or both. A backend
takes whichever it is given. The two packages' classes are distinct, so nothing of one
may be handed to the other: requests are built by the client itself from a ``str`` URL,
and the exceptions a request can raise are looked up in the client's own package.

Narrowing is by ``isinstance`` against the packages that are already imported (a client
of a package implies that package is imported), so neither package is imported here
just to check.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TypeAlias

__all__ = [
    "PACKAGES",
    "AsyncHTTPClient",
    "ClientErrors",
    "HTTPResponse",
    "check_client",
    "client_errors",
    "new_client",
]

#: The client packages accepted, in the order a backend tries them for a client of its
#: own: httpx2, the run-time dependency (the maintained line; docs/http-clients.md has
#: the measurements), then httpx, for a host that installed e2estream without it.
PACKAGES = ("httpx2", "httpx")


#: An ``httpx.Response`` or an ``httpx2.Response`` (the same shape, distinct classes).
HTTPResponse: TypeAlias = Any


class AsyncHTTPClient(Protocol):
    """What a backend needs of a client: ``httpx.AsyncClient`` and ``httpx2.AsyncClient``."""

    def build_request(
        self, method: str, url: str, *, content: bytes, headers: Mapping[str, str]
    ) -> Any:
        """Build a request (an ``httpx.Request`` or ``httpx2.Request``)."""
        ...

    async def send(self, request: Any, *, stream: bool, follow_redirects: bool) -> Any:
        """Send it; return the response (body not read when ``stream``)."""
        ...

    async def aclose(self) -> None:
        """Close the client's connections."""
        ...


@dataclass(frozen=True, slots=True)
class ClientErrors:
    """The exception classes of one client package, for ``except`` clauses."""

    http: type[Exception]
    transport: type[Exception]
    timeout: type[Exception]
    local_protocol: type[Exception]
    unsupported_protocol: type[Exception]
    decoding: type[Exception]

    @classmethod
    def of(cls, package: ModuleType) -> ClientErrors:
        return cls(
            package.HTTPError,
            package.TransportError,
            package.TimeoutException,
            package.LocalProtocolError,
            package.UnsupportedProtocol,
            package.DecodingError,
        )


_ERRORS: dict[str, ClientErrors] = {}


def _package_of(client: object) -> ModuleType | None:
    for name in PACKAGES:
        package = sys.modules.get(name)
        if package is not None and isinstance(client, package.AsyncClient):
            return package
    return None


def check_client(client: object) -> None:
    """Raise ``TypeError`` unless ``client`` is an ``httpx``/``httpx2`` ``AsyncClient``."""
    if _package_of(client) is not None:
        return
    hint = ""
    if type(client).__name__ == "Client":
        hint = " (a sync Client cannot stream into an async pipeline: use AsyncClient)"
    raise TypeError(
        f"client must be an httpx.AsyncClient or an httpx2.AsyncClient, not a "
        f"{type(client).__module__}.{type(client).__qualname__}{hint}"
    )


def client_errors(client: object) -> ClientErrors:
    """Return the exception classes of ``client``'s package (see :func:`check_client`)."""
    package = _package_of(client)
    if package is None:
        check_client(client)  # raises
        raise AssertionError  # pragma: no cover
    errors = _ERRORS.get(package.__name__)
    if errors is None:
        errors = _ERRORS[package.__name__] = ClientErrors.of(package)
    return errors


def new_client(*, read: float | None, connect: float | None) -> AsyncHTTPClient:
    """Create an ``AsyncClient`` of the first installed package of :data:`PACKAGES`.

    ``read`` also bounds writes and the wait for a pooled connection.

    Raises:
        ModuleNotFoundError: If neither httpx nor httpx2 is installed.
    """
    for name in PACKAGES:
        try:
            package = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        client: AsyncHTTPClient = package.AsyncClient(
            timeout=package.Timeout(read, connect=connect)
        )
        return client
    raise ModuleNotFoundError("the HTTP backends need httpx2 or httpx: pip install httpx2")
