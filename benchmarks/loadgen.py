"""A closed-loop HTTP/1.1 load generator on loopback: `python -m benchmarks.loadgen`.

It runs in its own process (the server under test keeps its own interpreter and GIL) and is
built so that it is not the bottleneck: requests are encoded once up front, each client keeps
one keep-alive connection, a single client is a plain blocking socket loop, several clients are
coroutines on one event loop. It reports its own CPU time per request, so a reader can check
that claim against the server's cost per request.

Each client sends a request, reads the whole response, records the latency and sends the next
(closed loop, no think time), cycling through the given bodies. Only 127.0.0.1 is accepted as
target. Run time is bounded by --duration (and a hard deadline of twice that).

Output: one JSON line with the latency summary (ms), throughput, non-200 count and client CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.stats import latency_summary

LOOPBACK = ("127.0.0.1", "localhost")


class HttpError(RuntimeError):
    pass


def encode_requests(host: str, port: int, path: str, bodies: list[bytes]) -> list[bytes]:
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]


def _parse_head(head: bytes) -> tuple[int, int]:
    """(status, content length) from a response head (without the blank line)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            raise HttpError("chunked responses are not supported by this generator")
    return status, length


class BlockingClient:
    """One keep-alive connection, one request at a time: the single-client latency path."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, raw: bytes) -> int:
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HttpError("server closed the connection")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status, length = _parse_head(head)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HttpError("server closed the connection mid-body")
            rest += chunk
        self.buffer = rest[length:]
        return status

    def close(self) -> None:
        self.sock.close()


def run_single(host: str, port: int, raws: list[bytes], warmup: int, duration: float) -> dict:
    client = BlockingClient(host, port)
    latencies: list[float] = []
    errors = 0
    try:
        for i in range(warmup):
            client.request(raws[i % len(raws)])
        cpu0, began = _cpu(), time.perf_counter()
        deadline = began + duration
        i = 0
        while True:
            start = time.perf_counter()
            if start >= deadline:
                break
            status = client.request(raws[i % len(raws)])
            latencies.append(time.perf_counter() - start)
            errors += status != 200
            i += 1
        elapsed, cpu = time.perf_counter() - began, _cpu() - cpu0
    finally:
        client.close()
    return _result(latencies, errors, elapsed, cpu, 1)


async def _client_loop(
    host: str,
    port: int,
    raws: list[bytes],
    offset: int,
    warmup: int,
    start_at: asyncio.Event,
    deadline: list[float],
    latencies: list[float],
    counters: dict[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def one(raw: bytes) -> int:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status, length = _parse_head(head[:-4])
        if length:
            await reader.readexactly(length)
        return status

    try:
        for i in range(warmup):
            await one(raws[(offset + i) % len(raws)])
        counters["ready"] += 1
        await start_at.wait()
        i = offset
        while True:
            start = time.perf_counter()
            if start >= deadline[0]:
                break
            status = await one(raws[i % len(raws)])
            latencies.append(time.perf_counter() - start)
            if status != 200:
                counters["non_200"] += 1
            i += 1
    finally:
        writer.close()


async def _run_many(
    host: str, port: int, raws: list[bytes], clients: int, warmup: int, duration: float
) -> dict:
    start_at = asyncio.Event()
    deadline = [float("inf")]
    latencies: list[float] = []
    counters = {"ready": 0, "non_200": 0}
    tasks = [
        asyncio.create_task(
            _client_loop(
                host,
                port,
                raws,
                n * 7,
                warmup // clients + 1,
                start_at,
                deadline,
                latencies,
                counters,
            )
        )
        for n in range(clients)
    ]
    # Measure only once every client has connected and warmed up.
    while counters["ready"] < clients:
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        await asyncio.sleep(0.02)
    cpu0, began = _cpu(), time.perf_counter()
    deadline[0] = began + duration
    start_at.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration * 2 + 30)
    elapsed, cpu = time.perf_counter() - began, _cpu() - cpu0
    return _result(latencies, counters["non_200"], elapsed, cpu, clients)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _result(latencies: list[float], errors: int, elapsed: float, cpu: float, clients: int) -> dict:
    if not latencies:
        raise HttpError("no request completed")
    return {
        "clients": clients,
        "requests": len(latencies),
        "non_200": errors,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency": latency_summary(latencies),
        "client_cpu_s": round(cpu, 3),
        "client_cpu_us_per_request": round(cpu / len(latencies) * 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/path")
    parser.add_argument("--bodies", type=Path, required=True, help="JSON list of request bodies")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme != "http" or url.hostname not in LOOPBACK or url.port is None:
        parser.error("--url must be http://127.0.0.1:PORT/... (loopback only)")
    host = "127.0.0.1"
    bodies = [
        json.dumps(b, separators=(",", ":")).encode() for b in json.loads(args.bodies.read_text())
    ]
    raws = encode_requests(host, url.port, url.path, bodies)
    if args.clients == 1:
        result = run_single(host, url.port, raws, args.warmup, args.duration)
    else:
        result = asyncio.run(
            _run_many(host, url.port, raws, args.clients, args.warmup, args.duration)
        )
    result["url"] = args.url
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
