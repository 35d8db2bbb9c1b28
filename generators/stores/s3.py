"""S3Store: any S3 endpoint through boto3."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone

import boto3
import botocore.exceptions
from botocore.config import Config

from cloudtrail_emulator.generators.errors import GeneratorError
from cloudtrail_emulator.generators.stores.base import BucketNotEmpty, NoSuchBucket, NoSuchKey, StoredObject
from cloudtrail_emulator.generators.stores.names import check_bucket_name, clean_metadata

CONNECT_TIMEOUT = 1.5
READ_TIMEOUT = 30
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


class S3Store:
    """Any S3 endpoint through boto3: path-style addressing, short timeouts, few retries."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None,
                 credentials: Credentials | None = None):
        config = Config(
            s3={"addressing_style": "path"},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        )
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
            region_name=region,
        )
        try:
            self._client = session.client("s3", endpoint_url=endpoint_url, config=config)
        except ValueError as exc:
            raise GeneratorError(f"invalid S3 endpoint {endpoint_url!r}: {exc}") from None
        self.endpoint_url: str = self._client.meta.endpoint_url
        self.region: str = self._client.meta.region_name

    @contextmanager
    def _translate(self, bucket: str | None = None, key: str | None = None) -> Iterator[None]:
        """Turn botocore failures into one-line GeneratorErrors."""
        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}" if bucket else self.endpoint_url
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code == "NoSuchBucket":
                raise NoSuchBucket(f"no such bucket: {bucket}") from None
            if code in ("NoSuchKey", "404") and key is not None:
                raise NoSuchKey(f"no such key: {where}") from None
            if code == "BucketNotEmpty":
                raise BucketNotEmpty(f"bucket {bucket} is not empty") from None
            message = error.get("Message") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise GeneratorError(f"S3 request for {where} failed: {code}: {message}") from None
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            raise GeneratorError(f"cannot reach S3 endpoint {self.endpoint_url}: {exc}") from None
        except botocore.exceptions.NoCredentialsError:
            raise GeneratorError(
                f"no AWS credentials for S3 endpoint {self.endpoint_url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (any values for a local endpoint)") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise GeneratorError(f"S3 request for {where} failed: {exc}") from None

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document, or None when it has none."""
        try:
            with self._translate(bucket):
                return self._client.get_bucket_policy(Bucket=bucket)["Policy"]
        except GeneratorError as exc:
            if "NoSuchBucketPolicy" in str(exc):
                return None
            raise

    def create_bucket(self, bucket: str) -> None:
        check_bucket_name(bucket)
        kwargs: dict = {"Bucket": bucket}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with self._translate(bucket):
            try:
                self._client.create_bucket(**kwargs)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise

    def bucket_exists(self, bucket: str) -> bool:
        with self._translate(bucket):
            try:
                self._client.head_bucket(Bucket=bucket)
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                    return False
                raise
        return True

    def list_buckets(self) -> list[str]:
        with self._translate():
            return sorted(b["Name"] for b in self._client.list_buckets().get("Buckets", []))

    def delete_bucket(self, bucket: str) -> None:
        with self._translate(bucket):
            self._client.delete_bucket(Bucket=bucket)

    def put(self, bucket: str, key: str, body: bytes, metadata: Mapping[str, str] | None = None, *,
            content_type: str | None = None, content_encoding: str | None = None) -> None:
        """PutObject; `content_type` and `content_encoding` become the object's Content-Type/-Encoding."""
        headers = {name: value for name, value in (("ContentType", content_type),
                                                   ("ContentEncoding", content_encoding)) if value}
        with self._translate(bucket, key):
            self._client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=clean_metadata(metadata), **headers)

    def get(self, bucket: str, key: str) -> StoredObject:
        with self._translate(bucket, key):
            response = self._client.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
        return self._stored(response, body)

    def head(self, bucket: str, key: str) -> StoredObject:
        with self._translate(bucket, key):
            response = self._client.head_object(Bucket=bucket, Key=key)
        return self._stored(response, b"")

    @staticmethod
    def _stored(response: dict, body: bytes) -> StoredObject:
        return StoredObject(
            body=body,
            metadata={k.lower(): v for k, v in response.get("Metadata", {}).items()},
            last_modified=response["LastModified"].astimezone(timezone.utc),
            etag=response["ETag"].strip('"'),
            size=int(response["ContentLength"]),
        )

    def delete(self, bucket: str, key: str) -> None:
        with self._translate(bucket, key):
            self._client.delete_object(Bucket=bucket, Key=key)

    def list(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]:
        """Keys in S3's order (ascending UTF-8 bytes), page by page (ListObjectsV2)."""
        paginator = self._client.get_paginator("list_objects_v2")
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        with self._translate(bucket):
            for page in paginator.paginate(**kwargs):
                for item in page.get("Contents", []):
                    yield item["Key"]
