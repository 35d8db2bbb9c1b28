"""The HTTP/1.1 side of the server: uvicorn's httptools protocol with AWS-like limits on the request
head and strict framing. It also keeps the request target exactly as sent in the ASGI scope
(`request_target`, for the WSGI environ's REQUEST_URI).

Limits (all answered before the app sees anything, then the connection is closed):
- the header fields are at most HEAD_LIMIT bytes (S3 documents 8 KB for a PUT request's header, of
  which 2 KB user metadata) and the request line at most REQUEST_LINE_LIMIT; larger heads get S3's
  `RequestHeaderSectionTooLarge` 400;
- a client has HEAD_TIMEOUT_SECONDS from connecting (or from its previous answer) to finish its
  request head, else the connection is closed (ALB/nginx-style header timeout: a slow or silent
  client holds a socket, never a worker thread);
- framing llhttp refuses (a chunk size that is negative, not hex or overflows 64 bits, both
  Content-Length and Transfer-Encoding, a bad Content-Length) is a 400 from uvicorn itself; a chunk
  declared larger than MAX_CHUNK_BYTES (S3's largest single PUT) is a 400 too, before its data is
  awaited. llhttp does not tell a chunk's size, so a chunked body is fed to the parser outside of
  chunk data one line at a time: when it reports a chunk header, the line just fed is its size line.
"""
from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

#: header fields, bytes (S3: "The PUT request header is limited to 8 KB in size")
HEAD_LIMIT = 8 * 1024
#: request line, bytes (ALB's documented request line limit, 16 K)
REQUEST_LINE_LIMIT = 16 * 1024
#: from connecting, or from the previous answer, to the end of the request head
HEAD_TIMEOUT_SECONDS = 30.0
#: the request line and head around the target and the fields: method, spaces, version, CRLFs
_REQUEST_LINE_FRAME = 32
#: scope key set when the client half-closed before the end of the request body (wsgi_bridge raises)
BODY_CUT = "emulator.body_cut"
#: largest chunk of a chunked body (S3: "Upload a single object up to 5 GB")
MAX_CHUNK_BYTES = 5 * 1024 ** 3

HEAD_TOO_LARGE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RequestHeaderSectionTooLarge</Code>'
                  b'<Message>Your request header section exceeds the maximum allowed size.</Message>'
                  b'<MaxSizeAllowed>' + str(HEAD_LIMIT).encode() + b'</MaxSizeAllowed></Error>')


class _Latched(asyncio.Event):
    """An event that stays set: once a body is cut, every later receive returns at once."""

    def clear(self) -> None:
        pass


class HeadTooLarge(Exception):
    """Header fields over HEAD_LIMIT or a request line over REQUEST_LINE_LIMIT (raised from a parser
    callback: uvicorn answers through `send_400_response`)."""


class ChunkRefused(Exception):
    """A chunk size line declaring more than MAX_CHUNK_BYTES (raised from a parser callback: uvicorn
    answers 400)."""


def guarded_protocol(head_timeout: float) -> type[HttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, with its head timeout."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"head_timeout": head_timeout})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head in size and in time."""

    head_timeout: float = HEAD_TIMEOUT_SECONDS
    _head_timer: asyncio.TimerHandle | None = None
    #: between messages or in a request head (fed up to its blank line, counted against HEAD_LIMIT)
    _in_head = True
    _head_bytes = 0
    _head_tail = b""             # the head's last bytes fed (its blank line may straddle two reads)
    #: body bytes the parser can take in one piece (a Content-Length body, a chunk's data)
    _data_left = 0
    #: in a chunked body outside chunk data: the line being fed so far (a chunk size line, a trailer)
    _line = b""

    def data_received(self, data: bytes) -> None:
        """Feed the parser a head up to its end, body data in one piece, the rest of a chunked body
        line by line (see module doc)."""
        at = 0
        while at < len(data) and self.parser is not None and not self.transport.is_closing():
            if self._in_head:
                end = self._head_end(data, at)
                self._head_bytes += end - at
                if self._head_bytes > HEAD_LIMIT + REQUEST_LINE_LIMIT:      # bounds an endless head
                    self.send_400_response("Request header section too large.")
                    return
            elif self._data_left:
                end = min(len(data), at + self._data_left)
                self._data_left -= end - at
            else:
                end = data.find(b"\n", at) + 1 or len(data)
                if len(self._line) + end - at > HEAD_LIMIT:      # no chunk size line is that long
                    super().send_400_response("Invalid HTTP request received.")
                    return
                self._line = b"" if self._line.endswith(b"\n") else self._line
                self._line += data[at:end]
            super().data_received(data if (at, end) == (0, len(data)) else data[at:end])
            at = end

    def _head_end(self, data: bytes, at: int) -> int:
        """Where the head being read ends in `data` (its blank line may straddle two reads), or the end."""
        joined = self._head_tail + data[at:at + 3]
        straddling = joined.find(b"\r\n\r\n")
        if straddling >= 0:
            return at + straddling + 4 - len(self._head_tail)
        found = data.find(b"\r\n\r\n", at)
        end = found + 4 if found >= 0 else len(data)
        self._head_tail = (self._head_tail + data[max(at, end - 3):end])[-3:]
        return end

    def eof_received(self) -> bool | None:
        """The client half-closed: a request in progress is still answered (then the connection
        closes); if its body was not complete, the app's next read fails (AWS: IncompleteBody)."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return None                                    # nothing to answer: close
        cycle.keep_alive = False
        if cycle.more_body:
            cycle.scope[BODY_CUT] = True                   # type: ignore[literal-required]
            waiting, cycle.message_event = cycle.message_event, _Latched()
            cycle.message_event.set()
            waiting.set()
        return True                                        # keep the write side open for the answer

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        target = len(self.url)
        if target > REQUEST_LINE_LIMIT or self._head_bytes - target > HEAD_LIMIT + _REQUEST_LINE_FRAME:
            self._head_bytes = HEAD_LIMIT + REQUEST_LINE_LIMIT + 1
            raise HeadTooLarge
        self._disarm_head_timer()
        self._in_head, self._head_bytes, self._head_tail, self._line = False, 0, b"", b""
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
        self._in_head, self._data_left = True, 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()           # the next request's head (uvicorn's keep-alive timer also runs)

    def send_400_response(self, msg: str) -> None:
        self._disarm_head_timer()
        if self._head_bytes <= HEAD_LIMIT + REQUEST_LINE_LIMIT:
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
