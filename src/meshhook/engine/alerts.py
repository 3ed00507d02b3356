"""Sending alert deliveries: one signed (or Slack) POST per attempt, through
the same guarded transport as ``http_call`` (the egress address rules, the
response size cap), with a timeout. Never touches the database; the caller
records the attempt (services/alerts.py)."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from meshhook.domain.alerts import AttemptRecord, Prepared
from meshhook.engine.executors.http_call import HttpSettings
from meshhook.engine.http.guard import AddressPolicy, AddressRefused, GuardedTransport

TIMEOUT_SECONDS = 10.0


class AlertSender:
    """One per worker process (and one per test-alert request)."""

    def __init__(self, settings: HttpSettings, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        transport = GuardedTransport(
            AddressPolicy(allow_private=settings.allow_private), settings.max_response_bytes
        )
        self.client = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False
        )
        self.timeout = timeout_seconds

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, prepared: Prepared) -> AttemptRecord:
        """POST the delivery once; what happened, for the log."""
        at = datetime.now(UTC)
        started = time.perf_counter()
        if prepared.problem is not None:
            return AttemptRecord(at, None, 0.0, prepared.problem)
        try:
            response = await self.client.post(
                prepared.url,
                content=prepared.body,
                headers=prepared.headers,
                timeout=self.timeout,
            )
        except AddressRefused as refused:
            refusal = f"the destination's address is refused: {refused}"
            return AttemptRecord(at, None, _since(started), refusal, final=True)
        except httpx.TimeoutException:
            return AttemptRecord(at, None, _since(started), "timed out")
        except (httpx.TransportError, httpx.InvalidURL) as failed:
            return AttemptRecord(at, None, _since(started), f"no answer: {type(failed).__name__}")
        code = response.status_code
        error: str | None = None if 200 <= code < 300 else f"answered {code}"
        return AttemptRecord(at, code, _since(started), error)


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def egress_refusal(url: str, allow_private: bool) -> str | None:
    """Why the egress rules refuse a destination URL whose host is an address
    literal (or ``localhost``), else None; a hostname is resolved and checked
    again at every send by the guarded transport."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return None if allow_private else "a loopback address (localhost)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return AddressPolicy(allow_private=allow_private).refusal(address)
