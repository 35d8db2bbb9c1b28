"""Messages to SNS subscribers: POSTed from one background thread, a few tries each."""
from __future__ import annotations

import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes


class HttpDelivery:
    """POSTs queued messages from one daemon thread: `attempts` tries, `timeout` seconds each."""

    def __init__(self, attempts: int = 3, timeout: float = 2.0, backoff: float = 0.2):
        self.attempts, self.timeout, self.backoff = attempts, timeout, backoff
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def submit(self, delivery: Delivery) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sns-delivery", daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def close(self) -> None:
        """Stop the thread after the messages already queued."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=self.timeout * self.attempts + 1)

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            self._send(delivery)

    def _send(self, delivery: Delivery) -> None:
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(delivery.url, data=delivery.body, headers=delivery.headers,
                                             method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    answer.read()
                return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("SNS delivery to %s failed (attempt %d/%d): %s", delivery.url, attempt,
                            self.attempts, exc)
            if attempt < self.attempts:
                time.sleep(self.backoff * attempt)

