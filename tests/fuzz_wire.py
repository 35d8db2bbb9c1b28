"""The fuzz's requests on the wire: `Req` (as sent, or raw bytes) and `Client` (keep-alive, cut-off
uploads, raw requests)."""
from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Req:
    method: str
    path: str                 # raw request target, already percent-encoded as it goes on the wire
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncate: int = 0         # announce this many bytes more than the body, then half-close
    raw: bytes | None = None  # send these bytes as they are instead (method, path, headers: what they say)

    def __repr__(self) -> str:
        body = self.raw if self.raw is not None else self.body
        body = body if len(body) <= 200 else body[:200] + b"...(%d bytes)" % len(body)
        return (f"Req({self.method} {self.path[:300]!r} headers={self.headers!r} {'raw' if self.raw else 'body'}="
                f"{body!r} truncate={self.truncate})")


class Client:
    """One keep-alive connection, re-opened whenever the server closes it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def send(self, req: Req) -> tuple[int, bytes]:
        if req.raw is not None:
            return self._send_raw(req)
        if req.truncate:
            return self._send_truncated(req)
        for _ in range(2):
            try:
                self.conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
                self.conn.putheader("Host", f"{self.host}:{self.port}")
                for name, value in req.headers:
                    self.conn.putheader(name, value.encode("latin-1"))
                self.conn.putheader("Content-Length", str(len(req.body)))
                self.conn.endheaders(req.body)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, body
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest,
                    http.client.ResponseNotReady, BrokenPipeError):
                self.conn.close()
        return self._send_truncated(req)      # refused mid-upload: read the answer over a raw socket

    def _send_truncated(self, req: Req) -> tuple[int, bytes]:
        """Announce `truncate` more bytes than are sent, then half-close: the server sees a cut-off upload."""
        head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: close",
                f"Content-Length: {len(req.body) + req.truncate}"]
        head += [f"{name}: {value}" for name, value in req.headers]
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            try:
                sock.sendall("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + req.body)
                sock.shutdown(socket.SHUT_WR)
            except OSError:       # the server answered (and closed) before reading it all
                pass
            response = http.client.HTTPResponse(sock, method=req.method)
            response.begin()
            return response.status, response.read()

    def _send_raw(self, req: Req) -> tuple[int, bytes]:
        """Send `req.raw` from a thread on a new connection (the server may answer and close before
        reading it all) and read the one answer."""
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            def send() -> None:
                try:
                    sock.sendall(req.raw)
                except OSError:       # refused before everything was sent
                    pass

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            response = http.client.HTTPResponse(sock, method=req.method)
            response.begin()
            body = response.read()
            try:
                sock.shutdown(socket.SHUT_RDWR)     # ends a send still blocked on a full buffer
            except OSError:
                pass
            sender.join(30)
            return response.status, body

    def close(self) -> None:
        self.conn.close()
