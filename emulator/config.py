"""Settings of one emulator instance, and the injected clock."""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol


class Wakeup:
    """A flag that wakes a thread sleeping on a clock (`Clock.sleep_until`); set from any thread."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self._set = False

    def set(self) -> None:
        with self.condition:
            self._set = True
            self.condition.notify_all()

    def clear(self) -> None:
        with self.condition:
            self._set = False

    def is_set(self) -> bool:
        return self._set


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep_until(self, moment: datetime, wakeup: Wakeup) -> None:
        """Return once `now() >= moment` or `wakeup` is set, whichever comes first."""


class SystemClock:
    """Wall-clock UTC time: the only place the emulator reads the system clock."""

    #: longest single wait: a wall clock that jumps is read again at least this often (seconds)
    MAX_WAIT = 60.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep_until(self, moment: datetime, wakeup: Wakeup) -> None:
        with wakeup.condition:
            while not wakeup.is_set():
                remaining = (moment - self.now()).total_seconds()
                if remaining <= 0:
                    return
                wakeup.condition.wait(min(remaining, self.MAX_WAIT))


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (tests, reproducible runs): sleepers wake only when woken."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def sleep_until(self, moment: datetime, wakeup: Wakeup) -> None:
        with wakeup.condition:
            wakeup.condition.wait_for(lambda: wakeup.is_set() or moment <= self.at)


class ManualClock:
    """A clock that moves only when a test calls `advance`/`set`, waking every sleeper whose moment came."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._at = at
        self._lock = threading.Lock()
        self._sleepers: set[Wakeup] = set()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by `delta` (a timedelta or seconds); the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock does not go back")
        return self.set(self.now() + step)

    def set(self, at: datetime) -> datetime:
        """Move forward to `at` (never back) and wake the sleepers; the new time."""
        with self._lock:
            if at < self._at:
                raise ValueError("a clock does not go back")
            self._at = at
            sleepers = list(self._sleepers)
        for wakeup in sleepers:
            with wakeup.condition:
                wakeup.condition.notify_all()
        return at

    def sleep_until(self, moment: datetime, wakeup: Wakeup) -> None:
        with self._lock:
            self._sleepers.add(wakeup)
        try:
            with wakeup.condition:
                wakeup.condition.wait_for(lambda: wakeup.is_set() or self.now() >= moment)
        finally:
            with self._lock:
                self._sleepers.discard(wakeup)


@dataclass(frozen=True)
class AccessKey:
    """A configured credential; `account_id` None: the server's default account."""

    access_key_id: str
    secret_access_key: str
    account_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> "AccessKey":
        """`ID:SECRET[:ACCOUNT]`; ValueError with a one-line message when malformed."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError(f"expected ID:SECRET[:ACCOUNT], not {text!r}")
        account = parts[2] if len(parts) == 3 else None
        if account is not None and not re.fullmatch(r"\d{12}", account):
            raise ValueError(f"the account of access key {parts[0]} must be 12 digits, not {account!r}")
        return cls(parts[0], parts[1], account)



@dataclass
class EmulatorConfig:
    """What `create_app` needs; `data_dir=None` means `:memory:` (nothing survives the process)."""

    data_dir: Path | None = None
    default_account: str = "123456789012"
    region: str = "us-east-1"
    relax_bucket_policy: bool = False      # skip only the "policy lets CloudTrail write" check
    throttle_lookup: bool = False          # LookupEvents' 2 requests/second/account/region
    organization_id: str | None = None     # None: derived from the management account
    management_account: str | None = None  # None: the default account
    max_request_bytes: int = 64 * 1024 * 1024   # a request body read into memory (S3 object bodies stream)
    max_object_bytes: int = 5 * 1024**3         # one S3 PutObject/UploadPart body (AWS: 5 GiB); EntityTooLarge past it
    max_json_request_bytes: int = 1024 * 1024   # JSON 1.1 API requests
    api_page_size: int = 50                # ListTrails page size
    lookup_delay_seconds: float = 0.0      # LookupEvents hides events younger than this on `clock` (AWS: minutes)
    seed: int | None = None                # request ids; None draws from the OS
    delivery_interval: float = 300.0       # seconds between live log-file deliveries
    digest_interval: int = 3600            # seconds per digest period (1-3600)
    external_buckets: dict[str, str] = field(default_factory=dict)   # bucket -> outside S3 endpoint URL
    clock: Clock = field(default_factory=SystemClock)
    auth: str = "none"                     # "sigv4": verify signatures against access_keys
    access_keys: tuple[AccessKey, ...] = ()

    @classmethod
    def from_data_dir(cls, data_dir: str | Path, **kwargs) -> "EmulatorConfig":
        """`:memory:` (or empty) keeps nothing; anything else is a directory path."""
        text = str(data_dir)
        return cls(data_dir=None if text in ("", ":memory:") else Path(text), **kwargs)

    @property
    def management_account_id(self) -> str:
        return self.management_account or self.default_account

    @property
    def organization(self) -> str:
        """The organization id: configured, or `o-` + 10 characters derived from the management account."""
        if self.organization_id:
            return self.organization_id
        digest = hashlib.sha256(f"org:{self.management_account_id}".encode()).hexdigest()
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "o-" + "".join(alphabet[int(digest[i : i + 2], 16) % 36] for i in range(0, 20, 2))

    @property
    def state_dir(self) -> Path | None:
        return None if self.data_dir is None else self.data_dir / "state"
