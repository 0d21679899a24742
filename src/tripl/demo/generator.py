"""A synthetic product-analytics warehouse for the demo project: one DuckDB file, table `events`.

Volume is drawn per (hour, event, platform) cell from a Poisson law around a rate with daily and
weekly seasonality and a slight growth trend; rows are then expanded from those counts with numpy
and written by DuckDB in one `CREATE TABLE ... AS SELECT` (strings and JSON are built in SQL,
never row by row in Python). A few incidents are injected so every monitoring feature has
something real to find; `DemoSummary` says what was injected and when, so tests and the demo
project can refer to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

PLATFORMS = ("ios", "android", "web")
PLATFORM_SHARE = np.array([0.42, 0.40, 0.18])
# Monday .. Sunday: a shop busier at the weekend.
WEEKDAY_FACTOR = np.array([0.96, 0.94, 0.97, 1.0, 1.08, 1.24, 1.16])
DAILY_AMPLITUDE = 0.45
PEAK_HOUR_UTC = 19
GROWTH_PER_DAY = 0.004
USER_POOL = 40_000
MIN_DAYS = 10


@dataclass(frozen=True)
class EventSpec:
    name: str
    event_type: str
    screen: str
    button_id: str | None
    rate: float  # mean events per hour (all platforms) at an average hour of the first day


EVENTS: tuple[EventSpec, ...] = (
    EventSpec("home_view", "screen_view", "home", None, 95),
    EventSpec("catalog_view", "screen_view", "catalog", None, 60),
    EventSpec("product_view", "screen_view", "product", None, 80),
    EventSpec("search_view", "screen_view", "search", None, 30),
    EventSpec("cart_view", "screen_view", "cart", None, 28),
    EventSpec("checkout_view", "screen_view", "checkout", None, 14),
    EventSpec("profile_view", "screen_view", "profile", None, 12),
    EventSpec("settings_view", "screen_view", "settings", None, 5),
    EventSpec("banner_tap", "click", "home", "promo_banner", 18),
    EventSpec("search_submit", "click", "search", "search_go", 22),
    EventSpec("filter_apply", "click", "catalog", "filter_apply", 11),
    EventSpec("add_to_cart_tap", "click", "product", "add_to_cart", 24),
    EventSpec("wishlist_tap", "click", "product", "wishlist", 8),
    EventSpec("share_tap", "click", "product", "share", 6),
    EventSpec("checkout_tap", "click", "cart", "checkout", 13),
    EventSpec("promo_code_apply", "click", "checkout", "promo_apply", 4),
    EventSpec("logout_tap", "click", "settings", "logout", 2),
    EventSpec("purchase_completed", "purchase", "checkout", None, 9),
    EventSpec("purchase_refunded", "purchase", "profile", None, 1.2),
    EventSpec("subscription_renewed", "purchase", "none", None, 2.5),
    EventSpec("signup_started", "signup", "signup", None, 7),
    EventSpec("signup_completed", "signup", "signup", None, 5),
    EventSpec("login_completed", "signup", "login", None, 16),
    EventSpec("payment_error", "error", "checkout", None, 0.9),
    EventSpec("network_error", "error", "none", None, 3),
    EventSpec("app_crash", "error", "none", None, 0.6),
    EventSpec("app_open", "app", "none", None, 55),
    EventSpec("app_background", "app", "none", None, 48),
    EventSpec("push_received", "app", "none", None, 20),
    EventSpec("push_open", "app", "none", None, 4),
    # Injected: appears only in the last days and is not in any tracking plan.
    EventSpec("referral_tap", "click", "profile", "invite_friend", 10),
)
EVENT_TYPES = tuple(dict.fromkeys(spec.event_type for spec in EVENTS))

NEW_EVENT = "referral_tap"
STOPPED_EVENT = "share_tap"
SPIKE_EVENT = "push_received"
TYPE_CHANGE_EVENT = "purchase_completed"
TYPE_CHANGE_VERSION = "2.4.0"
DROP_PLATFORM = "android"


@dataclass(frozen=True)
class Release:
    version: str
    released_at: datetime


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    rows: int
    start: datetime  # first hour (inclusive)
    end: datetime  # exclusive: the data stops at this hour
    events: tuple[EventSpec, ...]
    releases: tuple[Release, ...]
    new_event: str  # undocumented, first arrives at new_event_since
    new_event_since: datetime
    stopped_event: str  # last arrives before stopped_event_at
    stopped_event_at: datetime
    drop_platform: str  # every event of this platform falls to drop_factor during drop
    drop: Window
    drop_factor: float
    spike_event: str  # this event rises to spike_factor during spike
    spike: Window
    spike_factor: float
    type_change_event: str  # properties.amount is a JSON string (was a number) on this release
    type_change_field: str
    type_change_version: str


def _floor_hour(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("end must be timezone-aware (UTC)")
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _at_hour(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _releases(end: datetime) -> tuple[Release, ...]:
    return (
        Release("2.1.0", _at_hour(end - timedelta(days=40), 9)),
        Release("2.2.0", _at_hour(end - timedelta(days=19), 9)),
        Release("2.3.0", _at_hour(end - timedelta(days=12), 9)),
        Release(TYPE_CHANGE_VERSION, _at_hour(end - timedelta(days=5), 9)),
    )


def _version_shares(hours_since_release: np.ndarray, platform: str) -> np.ndarray:
    """Share of traffic on each release per hour: newer releases take over older ones.

    Mobile stores roll out over days (logistic adoption, a few percent never update); the web
    bundle switches within the hour after the deploy. Input: (hours, releases); output the same.
    """
    t = hours_since_release
    if platform == "web":
        adoption = (t >= 1).astype(float)
    else:
        adoption = np.where(t >= 0, 0.97 / (1 + np.exp(-(t / 24 - 2.0) / 0.7)), 0.0)
    adoption[:, 0] = 1.0  # the oldest release is where everyone starts
    shares = np.empty_like(adoption)
    for i in range(adoption.shape[1]):
        shares[:, i] = adoption[:, i] * np.prod(1 - adoption[:, i + 1 :], axis=1)
    return shares


def _draw_versions(rng: np.random.Generator, hour_idx: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Pick a release per row from the per-hour shares (inverse CDF, vectorised)."""
    cumulative = np.cumsum(shares, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(len(hour_idx))
    picked = (u[:, None] > cumulative[hour_idx]).sum(axis=1)
    return np.minimum(picked, shares.shape[1] - 1)


def _hourly_factor(hours: np.ndarray, start: datetime) -> np.ndarray:
    """Daily sinusoid (peak in the evening), weekly shape and a slight growth trend per hour."""
    start_weekday = start.weekday()
    hour_of_day = (start.hour + hours) % 24
    day_index = (start.hour + hours) // 24
    daily = 1 + DAILY_AMPLITUDE * np.cos(2 * math.pi * (hour_of_day - PEAK_HOUR_UTC) / 24)
    weekly = WEEKDAY_FACTOR[(start_weekday + day_index) % 7]
    trend = 1 + GROWTH_PER_DAY * hours / 24
    return np.asarray(daily * weekly * trend)


def generate_demo_warehouse(
    path: Path, *, seed: int = 7, days: int = 21, end: datetime, scale: float = 1.0
) -> DemoSummary:
    """Write `path` (replacing it) with `days` of hourly events ending before the hour of `end`."""
    if days < MIN_DAYS:
        raise ValueError(f"the demo warehouse needs at least {MIN_DAYS} days")
    rng = np.random.default_rng(seed)
    end = _floor_hour(end)
    start = end - timedelta(days=days)
    n_hours = days * 24
    hours = np.arange(n_hours)

    releases = _releases(end)
    drop = Window(_at_hour(end - timedelta(days=7), 14), _at_hour(end - timedelta(days=7), 19))
    spike = Window(_at_hour(end - timedelta(days=3), 18), _at_hour(end - timedelta(days=3), 21))
    new_since = _at_hour(end - timedelta(days=2), 10)
    stopped_at = _at_hour(end - timedelta(days=4), 12)
    drop_factor, spike_factor = 0.2, 6.0

    def hour_of(moment: datetime) -> int:
        return int((moment - start).total_seconds() // 3600)

    # Expected counts per (hour, event, platform), then the incidents, then Poisson noise.
    rates = np.array([spec.rate for spec in EVENTS]) * scale
    expected = (
        _hourly_factor(hours, start)[:, None, None] * rates[None, :, None] * PLATFORM_SHARE[None, None, :]
    )
    # Slow drift of the platform mix: web gains a little every day.
    web = PLATFORMS.index("web")
    expected[:, :, web] *= 1 + 0.01 * hours[:, None] / 24
    names = [spec.name for spec in EVENTS]
    expected[: hour_of(new_since), names.index(NEW_EVENT), :] = 0
    expected[hour_of(stopped_at) :, names.index(STOPPED_EVENT), :] = 0
    expected[hour_of(drop.start) : hour_of(drop.end), :, PLATFORMS.index(DROP_PLATFORM)] *= drop_factor
    expected[hour_of(spike.start) : hour_of(spike.end), names.index(SPIKE_EVENT), :] *= spike_factor
    counts = rng.poisson(expected)

    cell_hour, cell_event, cell_platform = np.nonzero(counts)
    per_cell = counts[cell_hour, cell_event, cell_platform]
    hour_idx = np.repeat(cell_hour, per_cell)
    event_idx = np.repeat(cell_event, per_cell)
    platform_idx = np.repeat(cell_platform, per_cell)
    n_rows = len(hour_idx)

    release_hours = np.array([(r.released_at - start).total_seconds() / 3600 for r in releases])
    since_release = hours[:, None] - release_hours[None, :]
    version_idx = np.zeros(n_rows, dtype=np.int64)
    for p, platform in enumerate(PLATFORMS):
        rows = platform_idx == p
        version_idx[rows] = _draw_versions(rng, hour_idx[rows], _version_shares(since_release, platform))

    start_us = int(start.timestamp()) * 1_000_000
    micros = start_us + hour_idx * 3_600_000_000 + rng.integers(0, 3_600_000_000, n_rows)
    # Heavy users send more: user ids skew towards the start of the pool.
    user_idx = (USER_POOL * rng.random(n_rows) ** 2).astype(np.int64)
    amount = np.round(rng.lognormal(3.2, 0.8, n_rows), 2)
    pick = rng.integers(0, 1_000_000, n_rows)

    rows_data = {
        "t_us": micros.astype(np.int64),
        "event_idx": event_idx.astype(np.int64),
        "platform_idx": platform_idx.astype(np.int64),
        "version_idx": version_idx,
        "user_idx": user_idx,
        "amount": amount,
        "pick": pick.astype(np.int64),
    }
    lookup_events = {
        "event_idx": np.arange(len(EVENTS), dtype=np.int64),
        "event_name": np.array(names),
        "event_type": np.array([spec.event_type for spec in EVENTS]),
        "screen": np.array([spec.screen for spec in EVENTS]),
        "button_id": np.array([spec.button_id or "" for spec in EVENTS]),
    }
    lookup_platforms = {
        "platform_idx": np.arange(len(PLATFORMS), dtype=np.int64),
        "platform": np.array(PLATFORMS),
    }
    lookup_versions = {
        "version_idx": np.arange(len(releases), dtype=np.int64),
        "app_version": np.array([r.version for r in releases]),
    }

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.register("raw_rows", rows_data)
        con.register("lookup_events", lookup_events)
        con.register("lookup_platforms", lookup_platforms)
        con.register("lookup_versions", lookup_versions)
        con.execute(_BUILD_SQL, [TYPE_CHANGE_EVENT, TYPE_CHANGE_VERSION])
        for name in ("raw_rows", "lookup_events", "lookup_platforms", "lookup_versions"):
            con.unregister(name)
        con.execute("CHECKPOINT")
    finally:
        con.close()

    return DemoSummary(
        path=path,
        rows=n_rows,
        start=start,
        end=end,
        events=EVENTS,
        releases=releases,
        new_event=NEW_EVENT,
        new_event_since=new_since,
        stopped_event=STOPPED_EVENT,
        stopped_event_at=stopped_at,
        drop_platform=DROP_PLATFORM,
        drop=drop,
        drop_factor=drop_factor,
        spike_event=SPIKE_EVENT,
        spike=spike,
        spike_factor=spike_factor,
        type_change_event=TYPE_CHANGE_EVENT,
        type_change_field="properties.amount",
        type_change_version=TYPE_CHANGE_VERSION,
    )


# Properties per event type, built by the engine. `pick` is one uniform integer per row that
# each type slices into its own choices. Parameters: $1 type-change event, $2 its release.
# Registered numpy string arrays arrive as ENUMs: the lookups cast them to plain VARCHAR.
_BUILD_SQL = """
CREATE TABLE events AS
WITH e AS (
    SELECT event_idx, CAST(event_name AS VARCHAR) AS event_name, CAST(event_type AS VARCHAR) AS event_type,
           CAST(screen AS VARCHAR) AS screen, nullif(CAST(button_id AS VARCHAR), '') AS button_id
    FROM lookup_events
),
p AS (SELECT platform_idx, CAST(platform AS VARCHAR) AS platform FROM lookup_platforms),
v AS (SELECT version_idx, CAST(app_version AS VARCHAR) AS app_version FROM lookup_versions)
SELECT
    make_timestamp(r.t_us) AS event_time,
    e.event_name,
    e.event_type,
    p.platform,
    v.app_version,
    e.screen,
    e.button_id,
    'u' || lpad(CAST(r.user_idx AS VARCHAR), 6, '0') AS user_id,
    CASE e.event_type
        WHEN 'purchase' THEN json_object(
            'amount', CASE WHEN e.event_name = $1 AND v.app_version = $2
                           THEN to_json(printf('%.2f', r.amount)) ELSE to_json(r.amount) END,
            'currency', list_extract(['USD', 'EUR', 'GBP'], 1 + r.pick % 3),
            'product_id', 'sku_' || lpad(CAST((r.pick // 7) % 400 AS VARCHAR), 4, '0'),
            'payment', json_object(
                'method', list_extract(['card', 'apple_pay', 'paypal'], 1 + r.pick % 5 % 3)
            )
        )
        WHEN 'screen_view' THEN json_object(
            'referrer', list_extract(['direct', 'push', 'search', 'deeplink'], 1 + r.pick % 4),
            'session', json_object('index', 1 + (r.pick // 11) % 40)
        )
        WHEN 'click' THEN json_object('position', 1 + r.pick % 12)
        WHEN 'signup' THEN json_object('method', list_extract(['email', 'google', 'apple'], 1 + r.pick % 3))
        WHEN 'error' THEN json_object(
            'code', 'E' || CAST(100 + r.pick % 6 AS VARCHAR),
            'retryable', r.pick % 2 = 0
        )
        ELSE json_object('cold_start', r.pick % 4 = 0)
    END AS properties
FROM raw_rows r
JOIN e USING (event_idx)
JOIN p USING (platform_idx)
JOIN v USING (version_idx)
ORDER BY r.t_us
"""
