"""Where an ``http_call`` may connect: an address policy checked at connect time.

The host is resolved here, every address it resolves to is checked, and the
connection goes to a checked address, so a name that resolves to a private
address on the second lookup (DNS rebinding) cannot slip through. Redirects are
not followed by the executor, so the URL checked is the URL called.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services that are not link-local (those are refused anyway).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text) for text in ("fd00:ec2::254", "100.100.100.200")
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(httpx.TransportError):
    """The host resolves to an address the policy refuses."""


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    allow_private: bool = False
    """Loopback and private networks (a test server, an intranet service)."""

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be called, or ``None`` when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES or address.is_link_local:
            return "a link-local or cloud metadata address"
        if address.is_multicast or address.is_unspecified:
            return "a multicast or unspecified address"
        private = (
            address.is_loopback
            or address.is_private
            or (isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE)
        )
        if private:
            if self.allow_private:
                return None
            return "a private or loopback address (set MESHHOOK_HTTP_ALLOW_PRIVATE to allow)"
        if address.is_reserved:
            return "a reserved address"
        return None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason is not None:
                raise AddressRefused(f"{host} resolves to {reason}")
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        return await self.inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not callable")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"{host} does not resolve") from exc
    seen: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen[ipaddress.ip_address(str(sockaddr[0]).split("%")[0])] = None
    return list(seen)


@dataclass(frozen=True, slots=True)
class Capped:
    """A response body read up to the cap."""

    content: bytes
    truncated: bool


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over httpcore whose connections obey ``policy`` and
    whose response bodies are read up to ``max_body_bytes`` (the rest dropped,
    ``extensions["meshhook.truncated"]`` set)."""

    def __init__(self, policy: AddressPolicy, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=_body(request),
            extensions=request.extensions,
        )
        try:
            response = await self.pool.handle_async_request(core_request)
            try:
                capped = await self._read(response.aiter_stream())
            finally:
                await response.aclose()
        except httpcore.TimeoutException as exc:
            raise httpx.TimeoutException(str(exc), request=request) from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise httpx.TransportError(str(exc), request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            content=capped.content,
            extensions={"meshhook.truncated": capped.truncated},
            request=request,
        )

    async def _read(self, chunks: AsyncIterator[bytes]) -> Capped:
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            room = self.max_body_bytes - size
            if len(chunk) > room:
                parts.append(chunk[:room])
                return Capped(b"".join(parts), truncated=True)
            parts.append(chunk)
            size += len(chunk)
        return Capped(b"".join(parts), truncated=False)

    async def aclose(self) -> None:
        await self.pool.aclose()


def _body(request: httpx.Request) -> bytes:
    # The executor always builds requests from bytes; nothing streams upward.
    return request.content
