"""Release regressions from app-version series: what the newest release stopped sending.

A release is active once it carries >= 5 % of all traffic for 2 consecutive buckets and >= 200
events over the lookback; prereleases and the folded "Other" row never count. The newest active
release (SemVer order) is compared with the previous active one over the same buckets
[max(activation, latest - 14 d), latest], so seasonality and outages cancel out: per scope,
expected = previous release's share of its traffic x the newest release's traffic. Only deficits
are reported: `missing` below 5 % of expected, `volume_drop` at <= 50 % and more than sigma x
sqrt(expected) short, tested when expected >= 30.

Early in a rollout the new release's users are not a sample of everyone (fresh installs run the
onboarding flow, testers hammer one screen), so the event mix differs for reasons that are not
regressions. When >= 25 % of the new release's volume of a scope type sits in scopes whose share
grew more than 5x, volume drops of that scope type are held back until the mix settles; an event
that vanished outright is still reported as missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

import numpy as np

from tripl.observe.detection.series import TimeLike, epoch_seconds, to_datetime
from tripl.observe.detection.settings import AnomalySettings, Interval, interval_seconds

RegressionKind = Literal["missing", "volume_drop"]

ACTIVE_SHARE_MIN = 0.05
ACTIVE_CONSECUTIVE_BUCKETS = 2
ACTIVE_MIN_EVENTS = 200
LOOKBACK_DAYS = 28
COMPARE_DAYS = 14
MIN_EXPECTED = 30.0
MISSING_RATIO = 0.05
DROP_RATIO = 0.5
GROWTH_FACTOR = 5.0
MIX_SHIFT_SHARE = 0.25
_PRERELEASE = re.compile(r"(alpha|beta|rc|dev|snapshot|canary|nightly|preview|pre\b)", re.IGNORECASE)
_CORE = re.compile(r"^\s*[vV]?(\d+(?:\.\d+)*)(.*)$")


@dataclass(frozen=True)
class VersionCount:
    """One stored app-version row: a scope's (event_type or event) count for a version in a bucket.

    A version's traffic is the sum of its event_type rows (every event has a type); with no
    event_type rows at all, of its event rows.
    """

    scope_type: str
    scope_ref: str
    version: str
    bucket: TimeLike
    count: float
    is_other: bool = False


@dataclass(frozen=True)
class ReleaseInfo:
    version: str
    is_active: bool
    is_prerelease: bool
    activated_at: datetime | None
    total_count: int
    share: float  # of all traffic over the lookback


@dataclass(frozen=True)
class ReleaseRegression:
    """ReleaseRegressionItem of the contract, less the names the service looks up."""

    scope_type: str
    scope_ref: str
    kind: RegressionKind
    version: str
    previous_version: str
    observed_count: int
    expected_count: float
    ratio: float
    share_prev: float
    share_new: float
    release_share: float
    window_from: datetime
    window_to: datetime


@dataclass(frozen=True)
class ReleaseComparison:
    releases: list[ReleaseInfo]  # newest first
    latest_version: str | None
    previous_version: str | None
    window_from: datetime | None
    window_to: datetime | None
    release_share: float
    held_back: list[str]  # scope types whose volume drops wait for the rollout's mix to settle
    items: list[ReleaseRegression]


def version_key(version: str, prerelease_pattern: str | None = None) -> tuple[tuple[int, ...], bool] | None:
    """(numeric core, is_prerelease), or None when the string does not start with a version number."""
    match = _CORE.match(version)
    if not match:
        return None
    core = tuple(int(part) for part in match.group(1).split("."))
    rest = match.group(2).split("+", 1)[0]
    pre = rest.startswith("-") or bool(_PRERELEASE.search(rest))
    if prerelease_pattern and re.search(prerelease_pattern, version):
        pre = True
    return core + (0,) * max(0, 4 - len(core)), pre


def _activation(shares: np.ndarray) -> np.ndarray:
    """Index of the first bucket of the first run of enough consecutive active buckets, -1 if none."""
    run = shares >= ACTIVE_SHARE_MIN
    for k in range(1, ACTIVE_CONSECUTIVE_BUCKETS):
        run = run[:, :-1] & (shares[:, k:] >= ACTIVE_SHARE_MIN)
    if run.shape[1] == 0:
        return np.full(shares.shape[0], -1)
    return np.where(run.any(axis=1), run.argmax(axis=1), -1)


def _versions_table(
    rows: list[VersionCount], step: int, prerelease_pattern: str | None
) -> tuple[list[ReleaseInfo], np.ndarray, int, dict[str, int]]:
    """Release info (newest first), the traffic grid (versions, buckets), its first bucket, version index."""
    epochs = np.array([epoch_seconds(r.bucket) for r in rows], dtype=np.int64)
    latest = int(epochs.max())
    first = latest - (LOOKBACK_DAYS * 86400 - step)
    traffic_type = "event_type" if any(r.scope_type == "event_type" for r in rows) else "event"
    names = sorted({r.version for r in rows})
    index = {v: i for i, v in enumerate(names)}
    grid = np.zeros((len(names), (latest - first) // step + 1))
    for r, epoch in zip(rows, epochs.tolist(), strict=True):
        if r.scope_type == traffic_type and epoch >= first:
            grid[index[r.version], (epoch - first) // step] += r.count
    bucket_totals = grid.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        activation = _activation(np.where(bucket_totals > 0, grid / bucket_totals, 0.0))
    other = {r.version for r in rows if r.is_other}
    totals = grid.sum(axis=1)
    infos = []
    for i, name in enumerate(names):
        key = version_key(name, prerelease_pattern)
        release = key is not None and not key[1] and name not in other
        infos.append(
            ReleaseInfo(
                version=name,
                is_active=bool(release and activation[i] >= 0 and totals[i] >= ACTIVE_MIN_EVENTS),
                is_prerelease=bool(key is not None and key[1]),
                activated_at=to_datetime(first + step * int(activation[i])) if activation[i] >= 0 else None,
                total_count=int(totals[i]),
                share=float(totals[i] / max(float(bucket_totals.sum()), 1.0)),
            )
        )
    unordered = ((-1,), False)
    infos.sort(key=lambda info: (version_key(info.version, prerelease_pattern) or unordered)[0], reverse=True)
    return infos, grid, first, index


def compare_releases(
    rows: Iterable[
        VersionCount | tuple[str, str, str, TimeLike, float] | tuple[str, str, str, TimeLike, float, bool]
    ],
    interval: Interval,
    settings: AnomalySettings | None = None,
    *,
    sigma: float | None = None,
    prerelease_pattern: str | None = None,
) -> ReleaseComparison:
    """Active releases over the last 28 days of `rows` and the regressions of the newest one.

    Rows are VersionCount or plain tuples in its field order. `sigma` defaults to the settings'
    sigma_threshold.
    """
    sigma = sigma if sigma is not None else (settings or AnomalySettings()).sigma_threshold
    step = interval_seconds(interval)
    parsed = [r if isinstance(r, VersionCount) else VersionCount(*r) for r in rows]
    if not parsed:
        return ReleaseComparison([], None, None, None, None, 0.0, [], [])
    releases, grid, first, index = _versions_table(parsed, step, prerelease_pattern)
    active = [r for r in releases if r.is_active]
    if len(active) < 2:
        return ReleaseComparison(
            releases, active[0].version if active else None, None, None, None, 0.0, [], []
        )
    new, prev = active[0], active[1]
    latest = first + step * (grid.shape[1] - 1)
    start = max(epoch_seconds(new.activated_at or to_datetime(first)), latest - COMPARE_DAYS * 86400)
    window = grid[:, (start - first) // step :]
    release_share = float(window[index[new.version]].sum() / max(float(window.sum()), 1.0))
    scopes = _scope_sums(parsed, start, new.version, prev.version)
    judged = _judge(scopes, sigma)
    window_from, window_to = to_datetime(start), to_datetime(latest + step)
    items = [
        ReleaseRegression(
            scope_type=f.scope_type,
            scope_ref=f.scope_ref,
            kind=f.kind,
            version=new.version,
            previous_version=prev.version,
            observed_count=int(f.observed),
            expected_count=float(f.expected),
            ratio=float(f.observed / f.expected),
            share_prev=float(f.share_prev),
            share_new=float(f.share_new),
            release_share=release_share,
            window_from=window_from,
            window_to=window_to,
        )
        for f in judged.items
    ]
    return ReleaseComparison(
        releases, new.version, prev.version, window_from, window_to, release_share, judged.held_back, items
    )


@dataclass(frozen=True)
class _ScopeSums:
    keys: list[tuple[str, str]]  # (scope_type, scope_ref)
    previous: np.ndarray  # counts of the previous release per scope over the window
    newest: np.ndarray


def _scope_sums(rows: list[VersionCount], start: int, new: str, prev: str) -> _ScopeSums:
    index: dict[tuple[str, str], int] = {}
    previous: list[float] = []
    newest: list[float] = []
    for r in rows:
        if r.version not in (new, prev) or epoch_seconds(r.bucket) < start:
            continue
        i = index.setdefault((r.scope_type, r.scope_ref), len(index))
        if i == len(previous):
            previous.append(0.0)
            newest.append(0.0)
        if r.version == new:
            newest[i] += r.count
        else:
            previous[i] += r.count
    return _ScopeSums(list(index), np.array(previous), np.array(newest))


class _Finding(NamedTuple):
    scope_type: str
    scope_ref: str
    kind: RegressionKind
    observed: float
    expected: float
    share_prev: float
    share_new: float


@dataclass(frozen=True)
class _Judgement:
    items: list[_Finding]
    held_back: list[str]


def _judge(scopes: _ScopeSums, sigma: float) -> _Judgement:
    """Per scope type (each is a full partition of the traffic), expected vs observed for the newest."""
    types = np.array([t for t, _ in scopes.keys], dtype=object)
    items: list[_Finding] = []
    held: list[str] = []
    for scope_type in sorted(set(types.tolist())):
        family = types == scope_type
        prev, new = scopes.previous[family], scopes.newest[family]
        if prev.sum() <= 0 or new.sum() <= 0:
            continue
        share_prev, share_new = prev / prev.sum(), new / new.sum()
        expected = share_prev * new.sum()
        tested = expected >= MIN_EXPECTED
        missing = tested & (new < MISSING_RATIO * expected)
        dropped = (
            tested & ~missing & (new <= DROP_RATIO * expected) & (new < expected - sigma * np.sqrt(expected))
        )
        grown = (new > 0) & (share_new > GROWTH_FACTOR * share_prev)
        if new[grown].sum() >= MIX_SHIFT_SHARE * new.sum():
            held.append(scope_type)
            dropped[:] = False
        keys = [k for k, f in zip(scopes.keys, family.tolist(), strict=True) if f]
        for i in np.flatnonzero(missing | dropped).tolist():
            kind: RegressionKind = "missing" if missing[i] else "volume_drop"
            items.append(_Finding(*keys[i], kind, new[i], expected[i], share_prev[i], share_new[i]))
    items.sort(key=lambda item: (item.kind != "missing", item.observed / item.expected))
    return _Judgement(items, held)
