"""Pointing code under test at an emulator through the environment, as the AWS SDKs and CLI read it,
and putting the environment back afterwards.

    with aws_environment(emulator.url):
        my_app.main()          # boto3 / the aws CLI / any AWS SDK it starts reach the emulator

Set: ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_CLOUDTRAIL``, ``_S3``, ``_SNS`` (they
win over a LocalStack endpoint set for other services), dummy credentials, the region, no pager and
no instance metadata lookups. Unset: a session token and a profile (a profile makes the SDKs skip the
credential variables), and the user's config and credentials files are replaced by the null device,
so nothing of the developer's own AWS setup leaks in.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"
#: the services the emulator serves, as the SDKs name their endpoint variables
SERVICES = ("CLOUDTRAIL", "S3", "SNS")
UNSET = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def aws_env(endpoint_url: str, region: str = DEFAULT_REGION, access_key_id: str = ACCESS_KEY,
            secret_access_key: str = SECRET_KEY) -> dict[str, str]:
    """The variables that point the AWS SDKs and CLI at `endpoint_url` (merge over ``os.environ``,
    after dropping ``UNSET``)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        **{f"AWS_ENDPOINT_URL_{service}": endpoint_url for service in SERVICES},
        "AWS_ACCESS_KEY_ID": access_key_id, "AWS_SECRET_ACCESS_KEY": secret_access_key,
        "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@contextmanager
def patched_environ(values: Mapping[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    """Sets `values` and removes `unset` in ``os.environ`` for the block, then restores every one of
    them exactly (a variable that was absent is removed again)."""
    names = set(values) | set(unset)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def aws_environment(endpoint_url: str, region: str = DEFAULT_REGION, access_key_id: str = ACCESS_KEY,
                    secret_access_key: str = SECRET_KEY) -> Iterator[dict[str, str]]:
    """Points every AWS SDK and CLI started in the block at `endpoint_url` (see the module doc); the
    environment is restored afterwards. Yields the variables set."""
    values = aws_env(endpoint_url, region, access_key_id, secret_access_key)
    with patched_environ(values, UNSET):
        yield values
