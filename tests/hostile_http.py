"""Hostile HTTP requests as data, shared by the tests that pin each refusal and by the fuzz.

`framing_requests()`: raw bytes an HTTP server must refuse with 400 before the app (malformed
chunked framing, bad Content-Length, heads past S3's 8 KiB or a request line past 16 KiB).
`body_requests()`: S3 requests (`Hostile`) whose body a server with an object limit must refuse with
S3's code (sizes, payload hashes, checksums, aws-chunked framing, keys the store cannot hold); `send`
sends one exactly as built over a raw socket.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MiB = 1024 * 1024
#: S3 documents 8 KB for a PUT request's header; ALB 16 K for the request line
HEAD_LIMIT = 8 * 1024
REQUEST_LINE_LIMIT = 16 * 1024


def framing_requests(path: str = "/framing-bucket/hostile", host: str = "127.0.0.1") -> dict[str, bytes]:
    """Requests a server must refuse with 400 without handing them to the app: name -> raw bytes."""
    head = f"PUT {path} HTTP/1.1\r\nHost: {host}\r\n".encode()
    chunked = head + b"Transfer-Encoding: chunked\r\n"

    def chunks(size_line: bytes) -> bytes:
        return chunked + b"\r\n" + size_line + b"\r\nabcd\r\n0\r\n\r\n"

    return {
        "chunk size 2**64-1": chunks(b"ffffffffffffffff"),
        "chunk size over 64 bits": chunks(b"1ffffffffffffffff"),
        "negative chunk size": chunks(b"-4"),
        "chunk size not hex": chunks(b"zz"),
        "chunk over 5 GiB": chunks(b"140000001"),
        "chunk size line without end": chunked + b"\r\n" + b"4" + b";x" * 5000,
        "content-length and chunked": chunked + b"Content-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
        "content-length not a number": head + b"Content-Length: 4x\r\n\r\nabcd",
        "negative content-length": head + b"Content-Length: -4\r\n\r\nabcd",
        "two different content-lengths": head + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        "content-length over 64 bits": head + b"Content-Length: 99999999999999999999999\r\n\r\nabcd",
        "header over 8 KiB": head + b"X-Amz-Meta-Big: " + b"a" * HEAD_LIMIT + b"\r\nContent-Length: 0\r\n\r\n",
        "headers summing over 8 KiB": head + b"".join(b"X-Amz-Meta-H%d: %s\r\n" % (n, b"b" * 100)
                                                      for n in range(90)) + b"Content-Length: 0\r\n\r\n",
        "request target over 16 KiB": f"PUT {path}{'c' * REQUEST_LINE_LIMIT} HTTP/1.1\r\nHost: {host}\r\n"
                                     f"Content-Length: 0\r\n\r\n".encode(),
        "100 MB header": head + b"X-Big: " + b"d" * 100_000_000 + b"\r\n\r\n",
    }


@dataclass
class Hostile:
    """One request to send as is, and what S3 answers it with."""

    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = False          # HTTP Transfer-Encoding: chunked instead of a Content-Length
    status: int = 400
    code: str | None = None        # the S3 error code; None for a success
    absent: str | None = None      # a key that must not exist afterwards (nothing was stored)


def aws_chunked(data: bytes, size: int, trailer: dict[str, str] | None = None) -> bytes:
    """An unsigned aws-chunked body: `<hex>\\r\\n<data>\\r\\n`..., `0\\r\\n`, trailer lines, `\\r\\n`."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size))
    lines = "".join(f"{name}:{value}\r\n" for name, value in (trailer or {}).items())
    return out + b"0\r\n" + lines.encode() + b"\r\n"


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def body_requests(bucket: str, limit: int) -> list[Hostile]:
    """The request classes a server whose object limit is `limit` must refuse (bucket must exist)."""
    over = b"o" * (limit + 1)
    data = b"payload-" * 64
    wrong_sha = hashlib.sha256(b"something else").hexdigest()
    trailer_headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
                       "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-decoded-content-length": str(len(data))}
    return [
        Hostile("over the limit, Content-Length", "PUT", f"/{bucket}/too-big-cl", body=over,
                code="EntityTooLarge", absent="too-big-cl"),
        Hostile("over the limit, chunked", "PUT", f"/{bucket}/too-big-chunked", body=over, chunked=True,
                code="EntityTooLarge", absent="too-big-chunked"),
        Hostile("8x the limit, Content-Length", "PUT", f"/{bucket}/huge", body=over * 8,
                code="EntityTooLarge", absent="huge"),
        Hostile("part over the limit, chunked", "PUT", f"/{bucket}/part?partNumber=1&uploadId={'0' * 64}",
                body=over, chunked=True, status=404, code="NoSuchUpload"),
        Hostile("x-amz-content-sha256 of another body", "PUT", f"/{bucket}/sha-mismatch",
                {"x-amz-content-sha256": wrong_sha}, data, code="XAmzContentSHA256Mismatch", absent="sha-mismatch"),
        Hostile("x-amz-content-sha256 not a hash", "PUT", f"/{bucket}/sha-bad", {"x-amz-content-sha256": "nope"},
                data, code="InvalidArgument", absent="sha-bad"),
        Hostile("Content-MD5 of another body", "PUT", f"/{bucket}/md5-mismatch",
                {"Content-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode()}, data,
                code="BadDigest", absent="md5-mismatch"),
        Hostile("x-amz-checksum-crc32 of another body", "PUT", f"/{bucket}/crc-mismatch",
                {"x-amz-checksum-crc32": crc32_b64(b"x")}, data, code="BadDigest", absent="crc-mismatch"),
        Hostile("checksum trailer of another body", "PUT", f"/{bucket}/trailer-mismatch", trailer_headers,
                aws_chunked(data, 100, {"x-amz-checksum-crc32": crc32_b64(b"x")}), code="BadDigest",
                absent="trailer-mismatch"),
        Hostile("checksum trailer missing", "PUT", f"/{bucket}/trailer-missing", trailer_headers,
                aws_chunked(data, 100), code="IncompleteBody", absent="trailer-missing"),
        Hostile("aws-chunked size not hex", "PUT", f"/{bucket}/chunk-zz", trailer_headers,
                b"zz\r\n" + data + b"\r\n0\r\n\r\n", code="IncompleteBody", absent="chunk-zz"),
        Hostile("aws-chunked size negative", "PUT", f"/{bucket}/chunk-neg", trailer_headers,
                b"-1\r\n" + data + b"\r\n0\r\n\r\n", code="IncompleteBody", absent="chunk-neg"),
        Hostile("aws-chunked size overflowing", "PUT", f"/{bucket}/chunk-huge", trailer_headers,
                b"ffffffffffffffff\r\n" + data + b"\r\n0\r\n\r\n", code="EntityTooLarge", absent="chunk-huge"),
        Hostile("aws-chunked shorter than declared", "PUT", f"/{bucket}/chunk-short",
                {**trailer_headers, "x-amz-decoded-content-length": str(len(data) + 1)},
                aws_chunked(data, 100, {"x-amz-checksum-crc32": crc32_b64(data)}), code="IncompleteBody",
                absent="chunk-short"),
        Hostile("key over 1024 bytes", "PUT", f"/{bucket}/" + "k" * 1025, body=data, code="KeyTooLongError"),
        Hostile("key segment over 255 bytes", "PUT", f"/{bucket}/dir/" + "s" * 256, body=data,
                code="InvalidArgument"),
        Hostile("upload of a key segment over 255 bytes", "POST", f"/{bucket}/" + "u" * 256 + "?uploads",
                code="InvalidArgument"),
        Hostile("key with a NUL", "PUT", f"/{bucket}/nul%00key", body=data, code="InvalidArgument"),
        Hostile("key with a 201-byte file name (room for the store's own suffixes)", "PUT",
                f"/{bucket}/" + "n" * 201, body=data, code="InvalidArgument"),
        Hostile("listing a NUL prefix", "GET", f"/{bucket}?prefix=a%00b", status=200),
        Hostile("listing a 5 KB prefix", "GET", f"/{bucket}?prefix=" + "p/" * 2500, status=200),
        Hostile("listing a prefix with a 300-byte folder", "GET", f"/{bucket}?prefix=" + "f" * 300 + "/x",
                status=200),
    ]


def send(url: str, request: Hostile, timeout: float = 60) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send `request` exactly as built over a socket; (status, headers, body) of the answer. A server
    that answers before the body is all sent (and closes) is read all the same."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    try:
        head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {parts.netloc}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        if request.chunked:
            head.append("Transfer-Encoding: chunked")
        elif "Content-Length" not in request.headers:
            head.append(f"Content-Length: {len(request.body)}")
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("utf-8"))
            if request.chunked:
                for i in range(0, len(request.body), MiB):
                    piece = request.body[i:i + MiB]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(request.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.headers, response.read()
    finally:
        sock.close()
