"""The volume model: how busy each hour of each account and region is, relative to the others.

Real CloudTrail volumes are overdispersed: accounts differ in size and character, days differ
(deploy days, holidays, incidents, plain day-to-day noise) and so do hours. ``VolumeModel`` gives
the plan (``timeline.make_plan``) a weight per (account, hour, region); the plan shares the run's
count out by them, so ``--count`` stays exact. Every draw depends only on (seed, account) for an
account's profile, (seed, account, date) for a day and (seed, date) for an organisation-wide
holiday, never on the run's range or its order, so the same hour weighs the same in any run.

- Account: a size (lognormal, mean 1, sigma ``SIZE_SIGMA``), a character (``CHARACTERS``: a 24/7
  production account, an office-hours development account, or a mixed one), an office-hours shift
  of -1 to +1 h, and a weight for each secondary region.
- Day: a gamma factor (mean 1, CV ``1/sqrt(DAY_SHAPE)``); a deploy day (``DEPLOY_DAY_CHANCE`` of
  weekdays) lifts the office-hours part; a holiday (``HOLIDAY_CHANCE`` of weekdays, the same for
  every account) runs as a weekend day; an incident (``INCIDENT_CHANCE`` per account-day) multiplies
  1-4 consecutive hours by 2.5-6.
- Hour: the character's curve (an always-on part plus an office-hours part, damped on weekends)
  times lognormal noise (sigma ``HOUR_SIGMA``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

#: activity by UTC hour of day: quiet nights, a working day, an evening tail
HOURLY_RHYTHM = (
    0.35, 0.3, 0.25, 0.25, 0.25, 0.3, 0.4, 0.6, 0.9, 1.2, 1.5, 1.7,
    1.8, 1.9, 2.0, 2.0, 1.9, 1.8, 1.6, 1.4, 1.1, 0.9, 0.6, 0.45,
)
#: the office-hours part of a day: the rhythm above its night floor, mean 1
_OFFICE_RAW = [max(0.0, r - 0.2) for r in HOURLY_RHYTHM]
OFFICE_CURVE = tuple(r * len(_OFFICE_RAW) / sum(_OFFICE_RAW) for r in _OFFICE_RAW)


@dataclass(frozen=True)
class Character:
    """How an account's activity spreads over the week: always-on + office part (sum 1 on a weekday)."""

    name: str
    always_on: float        # services, workloads, automation: around the clock
    office: float           # people and their pipelines: the office curve
    weekend: float          # what is left of the office part on weekends and holidays
    chance: float           # share of accounts with this character


CHARACTERS = (
    Character("production", always_on=0.65, office=0.35, weekend=0.5, chance=0.4),
    Character("development", always_on=0.1, office=0.9, weekend=0.08, chance=0.35),
    Character("mixed", always_on=0.35, office=0.65, weekend=0.3, chance=0.25),
)
SIZE_SIGMA = 0.8
SECONDARY_REGION_RANGE = (0.1, 0.6)
OFFICE_SHIFTS = (-1, 0, 0, 1)
DAY_SHAPE = 12.0
HOUR_SIGMA = 0.2
DEPLOY_DAY_CHANCE = 0.25
DEPLOY_DAY_LIFT = 1.5
HOLIDAY_CHANCE = 0.04
INCIDENT_CHANCE = 0.06
INCIDENT_HOURS = (1, 4)
INCIDENT_FACTOR = (2.5, 6.0)


@dataclass(frozen=True)
class AccountVolume:
    """An account's size and character (fixed per seed and account)."""

    size: float
    character: Character
    office_shift: int
    secondary: tuple[float, ...]   # weights of up to 16 secondary regions, in the run's order


@dataclass(frozen=True)
class Day:
    """One account's day: its factor, kind and the incident's hours, if any."""

    factor: float
    deploy: bool
    holiday: bool
    incident: tuple[int, int, float] | None    # (first hour, hours, factor)
    noise: tuple[float, ...]                   # per hour of day, mean 1


def _lognormal(rng: random.Random, sigma: float) -> float:
    """A mean-one lognormal draw."""
    return rng.lognormvariate(-sigma * sigma / 2, sigma)


class VolumeModel:
    """Hour weights of a seed's accounts (cached per account and day)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._accounts: dict[str, AccountVolume] = {}
        self._days: dict[tuple[str, date], Day] = {}
        self._holidays: dict[date, bool] = {}

    def account(self, account: str) -> AccountVolume:
        volume = self._accounts.get(account)
        if volume is None:
            rng = random.Random(f"{self.seed}:{account}:volume")
            size = _lognormal(rng, SIZE_SIGMA)
            character = rng.choices(CHARACTERS, weights=[c.chance for c in CHARACTERS])[0]
            shift = rng.choice(OFFICE_SHIFTS)
            secondary = tuple(rng.uniform(*SECONDARY_REGION_RANGE) for _ in range(16))
            volume = self._accounts[account] = AccountVolume(size, character, shift, secondary)
        return volume

    def holiday(self, day: date) -> bool:
        """An organisation-wide quiet weekday (a public holiday, a company day off)."""
        quiet = self._holidays.get(day)
        if quiet is None:
            quiet = self._holidays[day] = day.weekday() < 5 and \
                random.Random(f"{self.seed}:{day.isoformat()}:holiday").random() < HOLIDAY_CHANCE
        return quiet

    def day(self, account: str, day: date) -> Day:
        found = self._days.get((account, day))
        if found is None:
            rng = random.Random(f"{self.seed}:{account}:{day.isoformat()}:day")
            factor = rng.gammavariate(DAY_SHAPE, 1 / DAY_SHAPE)
            deploy = rng.random() < DEPLOY_DAY_CHANCE
            incident_drawn = rng.random() < INCIDENT_CHANCE
            incident = (rng.randrange(24), rng.randint(*INCIDENT_HOURS), rng.uniform(*INCIDENT_FACTOR))
            noise = tuple(_lognormal(rng, HOUR_SIGMA) for _ in range(24))
            holiday = self.holiday(day)
            found = self._days[(account, day)] = Day(factor, deploy and day.weekday() < 5 and not holiday,
                                                     holiday, incident if incident_drawn else None, noise)
        return found

    def office_hour(self, account: str, at: datetime) -> int:
        """The hour of the account's office day that UTC hour ``at`` falls in (its shift applied)."""
        return (at.hour - self.account(account).office_shift) % 24

    def hour_weight(self, account: str, at: datetime) -> float:
        """The relative volume of an account's hour starting at ``at`` (all regions together)."""
        volume = self.account(account)
        character = volume.character
        day = self.day(account, at.date())
        office = character.office * OFFICE_CURVE[self.office_hour(account, at)]
        if at.weekday() >= 5 or day.holiday:
            office *= character.weekend
        elif day.deploy:
            office *= DEPLOY_DAY_LIFT
        weight = volume.size * (character.always_on + office) * day.factor * day.noise[at.hour]
        if day.incident is not None:
            first, hours, factor = day.incident
            if first <= at.hour < first + hours:
                weight *= factor
        return weight

    def region_weights(self, account: str, regions: int) -> list[float]:
        """The first region is the account's home; the others carry the account's own smaller shares."""
        secondary = self.account(account).secondary
        return [1.0] + [secondary[i % len(secondary)] for i in range(regions - 1)]

