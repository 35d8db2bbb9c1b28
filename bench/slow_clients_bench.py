"""Slow clients against normal ones: `--slow` sockets each trickle a request head (one header line
every `--interval` seconds, never finishing it) for `--seconds`, while `--clients` keep-alive clients
send DescribeTrails back to back; prints the normal clients' requests/s and latency p50/p99/max.

    .venv/bin/python bench/slow_clients_bench.py [--slow 200] [--interval 5] [--seconds 60] [--clients 2]

Starts `cloudtrail-emulator serve --data-dir :memory:` as a subprocess on a free 127.0.0.1 port. A
slow socket the server closes (its head timeout) is reopened at once, so `--slow` stay open; the
number of reopenings is printed too. `--baseline` runs the normal clients alone first, for comparison.
"""
from __future__ import annotations

import argparse
import http.client
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from peers_bench import BIN, _send, cloudtrail, free_port, start  # noqa: E402


class SlowSockets:
    """`count` connections trickling an endless request head, reopened when the server closes one."""

    def __init__(self, port: int, count: int, interval: float):
        self.port, self.count, self.interval = port, count, interval
        self.reopened = 0
        self.stop = threading.Event()
        self.selector = selectors.DefaultSelector()
        self.socks: list[socket.socket] = []

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)
        return sock

    def run(self) -> None:
        self.socks = [self._open() for _ in range(self.count)]
        line = 0
        while not self.stop.wait(0):
            deadline = time.monotonic() + self.interval
            while (left := deadline - time.monotonic()) > 0 and not self.stop.is_set():
                for key, _ in self.selector.select(timeout=min(left, 0.5)):
                    self._replace(key.fileobj)             # readable: the server answered or closed it
            line += 1
            for index, sock in enumerate(list(self.socks)):
                try:
                    sock.send(b"X-Slow-%d: %d\r\n" % (line, index))
                except OSError:
                    self._replace(sock)
        for sock in self.socks:
            sock.close()

    def _replace(self, sock) -> None:
        self.selector.unregister(sock)
        sock.close()
        self.socks[self.socks.index(sock)] = self._open()
        self.reopened += 1


def normal_client(port: int, until: float, latencies: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    request = cloudtrail("DescribeTrails", {})
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            status = _send(conn, request)
        except OSError as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"HTTP {status}")
    conn.close()


def measure(port: int, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=normal_client, args=(port, until, latencies, errors)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies), errors


def report(label: str, latencies: list[float], errors: list[str], seconds: float) -> None:
    if not latencies:
        print(f"{label}: no request answered; errors: {errors[:3]}")
        return

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000

    print(f"{label}: {len(latencies) / seconds:,.0f} req/s  p50 {at(0.5):.2f} ms  p99 {at(0.99):.2f} ms  "
          f"max {latencies[-1] * 1000:.2f} ms  errors {len(errors)}  load {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200, help="slow sockets (default: %(default)s)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a slow socket's lines")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the slow sockets trickle")
    parser.add_argument("--clients", type=int, default=2, help="normal keep-alive clients (threads)")
    parser.add_argument("--baseline", action="store_true", help="normal clients alone first")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="slow-bench-") as tmp:
        server = start([str(BIN / "cloudtrail-emulator"), "serve", "--data-dir", ":memory:", "--port", str(port)],
                       port, Path(tmp) / "serve.log", "/_emulator/health")
        try:
            if args.baseline:
                report("alone", *measure(port, args.clients, min(args.seconds, 10)), min(args.seconds, 10))
            slow = SlowSockets(port, args.slow, args.interval)
            trickle = threading.Thread(target=slow.run)
            trickle.start()
            time.sleep(1)                       # let every slow socket connect and send its first line
            try:
                report(f"with {args.slow} slow sockets", *measure(port, args.clients, args.seconds), args.seconds)
            finally:
                slow.stop.set()
                trickle.join()
            print(f"slow sockets reopened after the server closed them: {slow.reopened}")
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
