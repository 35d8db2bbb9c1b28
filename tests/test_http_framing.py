"""HTTP robustness over raw sockets: malformed framing and oversized request heads are refused with 400
before the app (nothing stored, the server keeps serving), slow clients do not stop the others, a head
not finished in time closes the connection, keep-alive and chunked bodies work.

`framing_requests()` builds the refused request classes as raw bytes, for reuse (e.g. by the fuzz).
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fixtures_server import EmulatorServer, start_emulator
from hostile_http import HEAD_LIMIT, REQUEST_LINE_LIMIT, framing_requests

from cloudtrail_emulator.emulator.config import EmulatorConfig
from cloudtrail_emulator.emulator.server import start_in_thread

BUCKET = "framing-bucket"
def exchange(server: EmulatorServer, data: bytes, timeout: float = 30, bytewise: bool = False) -> bytes:
    """Send `data` on a new connection (from a thread: the server may answer before reading it all;
    `bytewise`: one byte per send) and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.running.port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def send() -> None:
            try:
                for at in range(0, len(data), 1 if bytewise else len(data)):
                    sock.sendall(data[at:at + 1] if bytewise else data)
            except OSError:                                 # refused before everything was sent
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        sender.join(timeout)
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def one_answer(sock: socket.socket) -> tuple[int, dict[bytes, bytes], bytes]:
    """Read one Content-Length-framed response from a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {name: value.strip() for name, _, value in (line.partition(b":") for line in lines[1:])}
    while len(body) < int(headers[b"content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split(b" ")[1]), headers, body


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    running = start_emulator(EmulatorConfig(relax_bucket_policy=True))
    try:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running
    finally:
        running.running.stop()


def _keys(server: EmulatorServer) -> list[str]:
    return [item["Key"] for item in server.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.mark.parametrize("name", list(framing_requests()))
def test_hostile_framing_is_refused_with_400_and_nothing_stored(server, name):
    answer = exchange(server, framing_requests()[name])
    assert status_of(answer) == 400, answer[:300]
    assert b"connection: close" in answer.lower()
    assert _keys(server) == []
    assert server.client("cloudtrail").describe_trails()["trailList"] == []     # still serving


def test_oversized_head_gets_s3s_error(server):
    answer = exchange(server, framing_requests()["header over 8 KiB"])
    assert status_of(answer) == 400
    assert b"<Code>RequestHeaderSectionTooLarge</Code>" in answer
    assert b"<Message>Your request header section exceeds the maximum allowed size.</Message>" in answer


def test_head_just_under_the_limits_is_served(server):
    filler = b"e" * (HEAD_LIMIT - 600)
    query = b"x-id=" + b"f" * (REQUEST_LINE_LIMIT - 600)
    answer = exchange(server, b"PUT /%s/near-limit?%s HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\nContent-Length: 2\r\n"
                              b"Connection: close\r\n\r\nok" % (BUCKET.encode(), query, filler))
    assert status_of(answer) == 200, answer[:300]
    got = server.client("s3").get_object(Bucket=BUCKET, Key="near-limit")
    assert got["Body"].read() == b"ok"
    server.client("s3").delete_object(Bucket=BUCKET, Key="near-limit")


def test_chunked_bodies_arrive_dechunked_and_keep_alive_serves_several_requests(server):
    with socket.create_connection(("127.0.0.1", server.running.port), timeout=30) as sock:
        sock.sendall(b"PUT /%s/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n" % BUCKET.encode())
        assert one_answer(sock)[0] == 200
        sock.sendall(b"GET /%s/chunked HTTP/1.1\r\nHost: x\r\n\r\n" % BUCKET.encode())
        status, headers, body = one_answer(sock)
        assert (status, body, headers[b"content-length"]) == (200, b"hello, world", b"12")
        sock.sendall(b"HEAD /%s/chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % BUCKET.encode())
        head = b""
        while chunk := sock.recv(65536):
            head += chunk
        assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")
    server.client("s3").delete_object(Bucket=BUCKET, Key="chunked")


def test_a_request_sent_a_byte_at_a_time_is_parsed_the_same(server):
    """Heads, chunk size lines and chunk data split anywhere across reads (here: every byte)."""
    request = (b"PUT /%s/bytewise HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" % BUCKET.encode())
    refused = framing_requests(f"/{BUCKET}/bytewise-refused")["chunk size 2**64-1"]
    with socket.create_connection(("127.0.0.1", server.running.port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in request:
            sock.sendall(bytes([byte]))
        assert one_answer(sock)[0] == 200
    assert status_of(exchange(server, refused, bytewise=True)) == 400
    assert server.client("s3").get_object(Bucket=BUCKET, Key="bytewise")["Body"].read() == b"abcde"
    server.client("s3").delete_object(Bucket=BUCKET, Key="bytewise")
    assert _keys(server) == []


def test_expect_100_continue_then_the_body(server):
    with socket.create_connection(("127.0.0.1", server.running.port), timeout=30) as sock:
        sock.sendall(b"PUT /%s/continued HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                     b"Expect: 100-continue\r\nx-amz-meta-signature: abc\r\n\r\n" % BUCKET.encode())
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"data")
        assert one_answer(sock)[0] == 200
        sock.sendall(b"GET /%s/continued HTTP/1.1\r\nHost: x\r\n\r\n" % BUCKET.encode())
        status, headers, body = one_answer(sock)
    assert (status, body, headers[b"x-amz-meta-signature"]) == (200, b"data", b"abc")   # name as sent: lower-case
    server.client("s3").delete_object(Bucket=BUCKET, Key="continued")


SLOW_SOCKETS = 40
CALLS = 60


def test_slow_clients_do_not_stop_the_others(server):
    """40 sockets trickling an unfinished head (more than the 16 worker threads) while a client makes
    60 calls: every call is answered; then the slow heads finish and each slow client is answered too."""
    slow = []
    for n in range(SLOW_SOCKETS):
        sock = socket.create_connection(("127.0.0.1", server.running.port), timeout=60)
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
        slow.append(sock)
    try:
        cloudtrail = server.client("cloudtrail")
        done = threading.Event()
        answered: list[int] = []

        def calls() -> None:
            for _ in range(CALLS):
                answered.append(len(cloudtrail.describe_trails()["trailList"]))
            done.set()

        caller = threading.Thread(target=calls, daemon=True)
        caller.start()
        for sock in slow:                                   # one more header line each, meanwhile
            sock.sendall(b"X-Slow: 1\r\n")
        assert done.wait(timeout=120), f"{len(answered)} of {CALLS} calls answered"
        assert answered == [0] * CALLS
        for sock in slow:
            sock.sendall(b"Connection: close\r\n\r\n")
        for sock in slow:
            assert one_answer(sock)[0] == 200
    finally:
        for sock in slow:
            sock.close()


@pytest.fixture(scope="module")
def quick_timeout_server() -> Iterator[EmulatorServer]:
    """A server whose clients have 1 s to finish a request head."""
    running = EmulatorServer(start_in_thread(EmulatorConfig(), "127.0.0.1", 0, head_timeout=1.0))
    try:
        yield running
    finally:
        running.running.stop()


@pytest.mark.parametrize("sent", [b"", b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n"],
                         ids=["silent", "unfinished head"])
def test_a_head_not_finished_in_time_closes_the_connection(quick_timeout_server, sent):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", quick_timeout_server.running.port), timeout=60) as sock:
        sock.sendall(sent)
        assert sock.recv(65536) == b""                      # closed by the server, without an answer
    assert time.monotonic() - started < 50                  # well before the socket's own 60 s timeout


def test_the_head_timeout_leaves_a_request_being_answered_alone(quick_timeout_server):
    with socket.create_connection(("127.0.0.1", quick_timeout_server.running.port), timeout=60) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert one_answer(sock)[0] == 200
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")   # same connection, again
        assert one_answer(sock)[0] == 200


def test_a_large_object_goes_both_ways_whole_and_in_order(server):
    """A multi-chunk answer (backpressure hand-overs) and a body read in many pieces by the app."""
    data = bytes(range(256)) * (12 * 1024)             # 3 MiB
    s3 = server.client("s3")
    s3.put_object(Bucket=BUCKET, Key="large", Body=data)
    assert s3.get_object(Bucket=BUCKET, Key="large")["Body"].read() == data
    with socket.create_connection(("127.0.0.1", server.running.port), timeout=30) as sock:
        sock.sendall(b"GET /%s/large HTTP/1.1\r\nHost: x\r\n\r\n" % BUCKET.encode())
        status, headers, body = one_answer(sock)
        assert (status, len(body), body == data) == (200, len(data), True)
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")     # the connection is still usable
        assert one_answer(sock)[0] == 200
    s3.delete_object(Bucket=BUCKET, Key="large")
