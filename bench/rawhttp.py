"""A load generator that costs the server's 2 cores as little as possible.

Requests are built (and signed) before the clock starts, sent as raw bytes over
keep-alive sockets, and answers are read just far enough to know their status
and where they end (``Content-Length``; MeshHook never streams a hook's
answer). ``drive`` keeps many connections busy from one thread with a
selector, so the client's cost per request is a ``send`` and a ``recv`` or two,
not an HTTP library's.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

Answer = tuple[int, bytes]


def request(
    host: str, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
) -> bytes:
    """One HTTP/1.1 request as bytes (keep-alive, the body's length declared)."""
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def connect(address: tuple[str, int], source: str | None = None) -> socket.socket:
    """A TCP connection to ``address``, from ``source`` (a loopback address
    other than 127.0.0.1 stands for another client) when given."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source is not None:
        sock.bind((source, 0))
    sock.connect(address)
    return sock


class _Reader:
    """Splits one connection's bytes into answers."""

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> Iterator[Answer]:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                    break
            stop = end + 4 + length
            if len(self.buffer) < stop:
                return
            status = int(head[9:12])
            body = self.buffer[end + 4 : stop]
            self.buffer = self.buffer[stop:]
            yield status, body


def roundtrip(sock: socket.socket, raw: bytes) -> Answer:
    """Send one request on a blocking socket and read its answer."""
    sock.sendall(raw)
    reader = _Reader()
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        for answer in reader.feed(data):
            return answer


@dataclass
class Driven:
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)


def drive(
    address: tuple[str, int],
    requests: Sequence[bytes],
    connections: int,
    *,
    on_answer: Callable[[Answer], None] | None = None,
) -> Driven:
    """Send every request, ``connections`` at a time (one in flight on each),
    as fast as the server answers; the statuses, the time and each latency."""
    selector = selectors.DefaultSelector()
    result = Driven()
    pending = iter(requests)
    started_at: dict[int, float] = {}
    readers: dict[int, _Reader] = {}
    open_count = 0

    def send_next(sock: socket.socket) -> bool:
        raw = next(pending, None)
        if raw is None:
            return False
        started_at[sock.fileno()] = time.perf_counter()
        sock.sendall(raw)
        return True

    started = time.perf_counter()
    for _ in range(min(connections, len(requests))):
        sock = connect(address)
        readers[sock.fileno()] = _Reader()
        if send_next(sock):
            selector.register(sock, selectors.EVENT_READ)
            open_count += 1
    while open_count:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed a connection mid-run")
            for answer in readers[sock.fileno()].feed(data):
                result.latencies.append(time.perf_counter() - started_at[sock.fileno()])
                result.statuses[answer[0]] = result.statuses.get(answer[0], 0) + 1
                if on_answer is not None:
                    on_answer(answer)
                if not send_next(sock):
                    selector.unregister(sock)
                    sock.close()
                    open_count -= 1
    result.seconds = time.perf_counter() - started
    selector.close()
    return result
