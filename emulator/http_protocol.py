"""The HTTP/1.1 side of the server: uvicorn's httptools protocol with AWS-like limits on the request
head, and the WSGI environ details the app relies on that the ASGI-to-WSGI adapter leaves out.

Limits (all answered before the app sees anything, then the connection is closed):
- the request head (request target plus header fields) is at most HEAD_LIMIT bytes: S3 documents
  8 KB for a PUT request's header (of which 2 KB user metadata); larger heads get S3's
  `RequestHeaderSectionTooLarge` 400;
- a client has HEAD_TIMEOUT_SECONDS from connecting (or from its previous answer) to finish its
  request head, else the connection is closed (ALB/nginx-style header timeout: a slow or silent
  client holds a socket, never a worker thread);
- framing llhttp refuses (a chunk size that is negative, not hex or overflows 64 bits, both
  Content-Length and Transfer-Encoding, a bad Content-Length) is a 400 from uvicorn itself; a chunk
  declared larger than MAX_CHUNK_BYTES (S3's largest single PUT) is a 400 too, before its data is
  awaited. llhttp does not tell a chunk's size, so the parser is fed outside of body data one line
  at a time: when it reports a chunk header, the line just fed is that chunk's size line.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from werkzeug.exceptions import ClientDisconnected

#: request target + header fields, bytes (S3: "The PUT request header is limited to 8 KB in size")
HEAD_LIMIT = 8 * 1024
#: from connecting, or from the previous answer, to the end of the request head
HEAD_TIMEOUT_SECONDS = 30.0
#: per header line on the wire beyond name and value: ": " and CRLF
_LINE_OVERHEAD = 4
#: largest chunk of a chunked body (S3: "Upload a single object up to 5 GB")
MAX_CHUNK_BYTES = 5 * 1024 ** 3

HEAD_TOO_LARGE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RequestHeaderSectionTooLarge</Code>'
                  b'<Message>Your request header section exceeds the maximum allowed size.</Message>'
                  b'<MaxSizeAllowed>' + str(HEAD_LIMIT).encode() + b'</MaxSizeAllowed></Error>')


class ChunkRefused(Exception):
    """A chunk size line declaring more than MAX_CHUNK_BYTES (raised from a parser callback: uvicorn
    answers 400)."""


class HeadTooLarge(Exception):
    """The request head went over HEAD_LIMIT (raised from a parser callback: the parser stops there
    and uvicorn answers through `send_400_response`)."""


def guarded_protocol(head_timeout: float) -> type[HttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, with its head timeout."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"head_timeout": head_timeout})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head in size and in time."""

    head_timeout: float = HEAD_TIMEOUT_SECONDS
    _head_bytes = 0
    _head_timer: asyncio.TimerHandle | None = None
    #: body bytes the parser can take in one piece (a Content-Length body, a chunk's data); 0: feed by line
    _data_left = 0
    #: the line being fed so far (to read a chunk size line when the parser reports a chunk header)
    _line = b""

    def data_received(self, data: bytes) -> None:
        """Feed the parser body data in one piece and everything else line by line (see module doc)."""
        view = memoryview(data)
        while view and self.parser is not None and not self.transport.is_closing():
            if self._data_left:
                piece, view = view[:self._data_left], view[self._data_left:]
                self._data_left -= len(piece)
            else:
                end = data.find(b"\n", len(data) - len(view)) + 1 - (len(data) - len(view))
                piece, view = (view[:end], view[end:]) if end > 0 else (view, view[len(view):])
                if len(self._line) + len(piece) > HEAD_LIMIT:      # no line (header, chunk size) is longer
                    self._refuse_line()
                    return
                self._line += piece
            super().data_received(bytes(piece))
            if piece[-1:] == b"\n":
                self._line = b""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + _LINE_OVERHEAD)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self.scope["request_target"] = self.url       # type: ignore[typeddict-unknown-key]
        super().on_headers_complete()
        if not any(name == b"transfer-encoding" for name, _ in self.headers):
            self._data_left = next((int(value) for name, value in self.headers if name == b"content-length"), 0)

    def on_chunk_header(self) -> None:
        size = int(self._line.partition(b";")[0].strip(), 16)
        if size > MAX_CHUNK_BYTES:
            raise ChunkRefused
        self._data_left = size

    def on_message_complete(self) -> None:
        self._data_left = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()           # the next request's head (uvicorn's keep-alive timer also runs)

    def _refuse_line(self) -> None:
        if self._head_timer is not None:                   # still reading the head
            self._head_bytes = HEAD_LIMIT + 1
        self.send_400_response("Invalid HTTP request received.")

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > HEAD_LIMIT:
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        self._disarm_head_timer()
        if self._head_bytes <= HEAD_LIMIT:
            super().send_400_response(msg)
            return
        self.transport.write(b"".join([
            STATUS_LINE[400], b"content-type: application/xml\r\n",
            b"content-length: ", str(len(HEAD_TOO_LARGE)).encode(), b"\r\n",
            b"connection: close\r\n\r\n", HEAD_TOO_LARGE]))
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class EndedBodies:
    """ASGI middleware: a request body the client did not finish (it disconnected, or the server
    refused its framing and closed) raises werkzeug's ClientDisconnected in the app's read instead of
    ending like a complete body (a2wsgi reads `http.disconnect` as the end of the body)."""

    def __init__(self, app: Callable[..., Any]):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        async def receive_body() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected("the connection closed before the end of the request body")
            return message

        await self.app(scope, receive_body, send)


class WsgiEnviron:
    """WSGI middleware completing a2wsgi's environ from the ASGI scope: the request target exactly as
    sent in REQUEST_URI (SigV4 and S3 keys read it), PATH_INFO as its percent-decoded bytes (uvicorn
    decodes UTF-8 with replacement and reads `//x` as an authority), and `wsgi.input_terminated` (the
    body stream ends where the request does: chunked bodies come without CONTENT_LENGTH)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = environ["asgi.scope"]
        target: bytes = scope["request_target"]
        environ["REQUEST_URI"] = target.decode("latin-1")
        path = target.partition(b"?")[0] if target.startswith(b"/") else scope["raw_path"]
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
        environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)
