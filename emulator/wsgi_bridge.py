"""Running the WSGI app under the ASGI server: each request on a bounded pool of worker threads, its
answer handed to the event loop in as few hops as possible.

The request side is a2wsgi's: `build_environ` and its `Body`, a streaming `wsgi.input` that pulls the
ASGI receive channel as the app reads (nothing buffered beyond what the app asks for; uvicorn stops
reading the socket while its buffer is full). The answer side replaces a2wsgi's responder, which waits
for the event loop once per message (start, each chunk, end: 3 thread round trips for a one-chunk
answer, most of a small request's CPU under load). Here the worker holds back the status line and one
chunk: a one-chunk answer goes to the loop in a single hand-over the worker does not wait for; a
longer one is handed over chunk by chunk, each waiting until the previous was written (backpressure:
a slow reader of a large GET holds one chunk in memory, not the whole object). Requests without
`Expect: 100-continue` get the body bytes uvicorn already holds before the worker starts (the app's
first read then needs no round trip to the loop); with it, the body is only asked for when the app
reads it, which is when uvicorn sends `100 Continue`. The worker threads are a plain queue-fed pool
(ThreadPoolExecutor's futures and their chaining to asyncio cost more than the hand-over itself).
"""
from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any
from urllib.parse import unquote_to_bytes

from a2wsgi.wsgi import Body, build_environ
from werkzeug.exceptions import ClientDisconnected

from cloudtrail_emulator.emulator.http_protocol import BODY_CUT

Message = dict[str, Any]
#: (messages to send in order, set once they are sent, or None when the worker does not wait)
Batch = tuple[list[Message], "Future[None] | None"]


class WsgiBridge:
    """ASGI app running the WSGI `app` on `workers` threads."""

    def __init__(self, app: Callable[..., Iterable[bytes]], workers: int):
        self.app = app
        self.workers = _Workers(workers)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any],
                       send: Callable[[Message], Any]) -> None:
        if scope["type"] != "http":
            return
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[Batch | None] = asyncio.Queue()
        sender = loop.create_task(_send_batches(outbox, send))
        answer = _Answer(loop, outbox)
        body = _Body(loop, _ended_bodies(receive, scope))
        try:
            if (b"expect", b"100-continue") not in scope["headers"]:
                try:
                    body.take(await body.receive())
                except ClientDisconnected:
                    if not scope.get(BODY_CUT):
                        return                  # gone, or refused by the protocol: nobody to answer
                    # half-closed mid-body: the app's own read fails the same way, and it answers
            await self.workers.run(loop, answer.run, self.app, environ_of(scope, body))
        finally:
            outbox.put_nowait(None)
            await sender


class _Body(Body):
    """a2wsgi's streaming request body, which can be handed the first message before the app reads."""

    def take(self, message: Message) -> None:
        self.buffer.extend(message.get("body", b""))
        self._has_more = message.get("more_body", False)


class _Workers:
    """`count` daemon threads running calls from a queue, each call's outcome set on an asyncio future."""

    def __init__(self, count: int):
        self.calls: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"emulator-app-{n}", daemon=True)
                        for n in range(count)]
        for thread in self.threads:
            thread.start()

    def run(self, loop: asyncio.AbstractEventLoop, function: Callable[..., None], *args: Any) -> asyncio.Future:
        done = loop.create_future()
        self.calls.put((loop, done, function, args))
        return done

    def shutdown(self) -> None:
        """Let each thread end after its current call (calls still queued are dropped)."""
        while not self.calls.empty():
            try:
                self.calls.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            self.calls.put(None)

    def _work(self) -> None:
        while (call := self.calls.get()) is not None:
            loop, done, function, args = call
            try:
                function(*args)
                outcome: BaseException | None = None
            except BaseException as exc:        # handed to the awaiting request, which re-raises it
                outcome = exc
            try:
                loop.call_soon_threadsafe(_settle, done, outcome)
            except RuntimeError:                # the loop closed meanwhile (a stop cut the request)
                pass


def _settle(done: asyncio.Future, outcome: BaseException | None) -> None:
    if done.cancelled():
        return
    if outcome is None:
        done.set_result(None)
    else:
        done.set_exception(outcome)


def environ_of(scope: dict[str, Any], body: Body) -> dict[str, Any]:
    """a2wsgi's environ, completed: the request target exactly as sent in REQUEST_URI (SigV4 and S3
    keys read it), PATH_INFO as its percent-decoded bytes (uvicorn decodes UTF-8 with replacement and
    reads `//x` as an authority), and `wsgi.input_terminated` (the body stream ends where the request
    does: chunked bodies come without CONTENT_LENGTH)."""
    environ: dict[str, Any] = build_environ(scope, body)      # type: ignore[arg-type,assignment]
    target: bytes = scope["request_target"]
    environ["REQUEST_URI"] = target.decode("latin-1")
    path = target.partition(b"?")[0] if target.startswith(b"/") else scope["raw_path"]
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
    environ["wsgi.input_terminated"] = True
    return environ


def _ended_bodies(receive: Callable[..., Any], scope: dict[str, Any]) -> Callable[..., Any]:
    """`receive` where a body the client did not finish (it disconnected or half-closed, or the server
    refused its framing and closed) raises werkzeug's ClientDisconnected in the app's read instead of
    ending like a complete body (a2wsgi's Body reads `http.disconnect` as the end)."""
    async def receive_body() -> Message:
        message = await receive()
        if message["type"] == "http.disconnect" or (
                scope.get(BODY_CUT) and message["more_body"] and not message["body"]):
            raise ClientDisconnected("the connection closed before the end of the request body")
        return message

    return receive_body


async def _send_batches(outbox: asyncio.Queue[Batch | None], send: Callable[[Message], Any]) -> None:
    """Send each batch's messages in order; tell a waiting worker when its batch is out."""
    while (batch := await outbox.get()) is not None:
        messages, sent = batch
        try:
            for message in messages:
                await send(message)
        except BaseException as exc:
            if sent is not None:
                sent.set_exception(exc)
            raise
        if sent is not None:
            sent.set_result(None)


class _Answer:
    """The worker-thread side of one request: runs the app, hands its answer to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, outbox: asyncio.Queue[Batch | None]):
        self.loop, self.outbox = loop, outbox
        self.pending: list[Message] = []      # not handed over yet: the start, then at most one chunk
        self.started = False
        self.head_sent = False

    def run(self, app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
        body = app(environ, self.start_response)
        try:
            for chunk in body:
                if chunk:
                    self._write(chunk)
        finally:
            getattr(body, "close", lambda: None)()
        if not self.started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        if self.pending[-1]["type"] == "http.response.body":
            self.pending[-1]["more_body"] = False
        else:
            self.pending.append({"type": "http.response.body", "body": b"", "more_body": False})
        self._hand_over(wait=False)

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and self.head_sent:
            raise exc_info[1].with_traceback(exc_info[2])     # too late to change the status
        self.started = True
        self.pending = [{"type": "http.response.start", "status": int(status.split(" ", 1)[0]),
                         "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]}]
        return self._write

    def _write(self, chunk: bytes) -> None:
        if self.pending and self.pending[-1]["type"] == "http.response.body":
            self._hand_over(wait=True)       # a second chunk: the held one goes, with backpressure
        self.pending.append({"type": "http.response.body", "body": chunk, "more_body": True})

    def _hand_over(self, *, wait: bool) -> None:
        sent: Future[None] | None = Future() if wait else None
        messages, self.pending = self.pending, []
        self.head_sent = True
        self.loop.call_soon_threadsafe(self.outbox.put_nowait, (messages, sent))
        if sent is not None:
            sent.result()
