"""Clocks: `sleep_until` returns when the moment comes or when woken; a ManualClock moves only when told."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from cloudtrail_emulator.emulator.config import FixedClock, ManualClock, SystemClock, Wakeup

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


def sleeper(clock, moment: datetime, wakeup: Wakeup) -> tuple[threading.Thread, threading.Event]:
    """A thread sleeping on `clock` until `moment`; the event is set when it has returned."""
    done = threading.Event()

    def run() -> None:
        clock.sleep_until(moment, wakeup)
        done.set()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_manual_clock_wakes_a_sleeper_when_its_moment_comes():
    clock, wakeup = ManualClock(T0), Wakeup()
    thread, done = sleeper(clock, T0 + timedelta(minutes=5), wakeup)
    assert clock.advance(timedelta(minutes=4)) == T0 + timedelta(minutes=4)
    assert not done.wait(0.2)                      # a minute short: still asleep
    clock.advance(60)
    assert done.wait(30)
    thread.join(30)


def test_a_wakeup_ends_the_sleep_early_on_every_clock():
    for clock in (ManualClock(T0), FixedClock(T0), SystemClock()):
        wakeup = Wakeup()
        thread, done = sleeper(clock, clock.now() + timedelta(hours=1), wakeup)
        assert not done.wait(0.1)
        wakeup.set()
        assert done.wait(30), clock
        thread.join(30)
        assert wakeup.is_set()
        wakeup.clear()
        assert not wakeup.is_set()


def test_a_moment_already_past_returns_at_once():
    for clock in (ManualClock(T0), FixedClock(T0), SystemClock()):
        clock.sleep_until(clock.now() - timedelta(seconds=1), Wakeup())


def test_system_clock_sleeps_until_the_moment():
    clock = SystemClock()
    moment = clock.now() + timedelta(milliseconds=50)
    clock.sleep_until(moment, Wakeup())
    assert clock.now() >= moment


def test_manual_clock_never_goes_back():
    clock = ManualClock(T0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(T0 - timedelta(seconds=1))
    with pytest.raises(ValueError):
        ManualClock(datetime(2025, 1, 1))          # naive: no time zone
    assert clock.set(T0 + timedelta(days=1)) == clock.now()
