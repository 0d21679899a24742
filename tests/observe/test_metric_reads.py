"""Metric read API over stored series: shapes, numbers, windows, and the project fence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from tests.observe.metric_support import (
    add_breakdowns,
    add_points,
    add_versions,
    hours_ago,
    make_scan,
)
from tests.plan.factories import make_event, make_event_type

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.metrics.schemas import EventWindowMetricsResponse
from tripl.observe.scans.models import ScanConfig
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventStatus

API = "/api/v1/projects/shop"
EMPTY_POINT = {"expected_count": None, "stddev": None, "is_anomaly": False, "anomaly_direction": None}


@dataclass
class Seeded:
    screen: EventType
    click: EventType
    home: Event
    cart: Event
    buy: Event
    old_scan: ScanConfig
    scan: ScanConfig


@pytest.fixture
def seeded(context: TriplContext, project: dict[str, Any]) -> Seeded:
    """Hourly series: `home` on two scans (newer rows on `scan`), `cart` and `buy` on `scan`."""
    screen, _ = make_event_type(context, project["id"], "screen")
    click, _ = make_event_type(context, project["id"], "click")
    home = make_event(context, screen, "home", status=EventStatus.live)
    cart = make_event(context, screen, "cart", status=EventStatus.draft)
    buy = make_event(context, click, "buy", status=EventStatus.live)
    old_scan = make_scan(context, project["id"], created_at=utcnow() - timedelta(days=2))
    scan = make_scan(context, project["id"], app_version_column="app_version")
    add_points(context, old_scan, "event", home.id, {hours_ago(30): 999})
    add_points(context, scan, "event", home.id, {hours_ago(3): 10, hours_ago(2): 20, hours_ago(24 * 10): 5})
    add_points(context, scan, "event", cart.id, {hours_ago(3): 1, hours_ago(1): 4})
    add_points(context, scan, "event", buy.id, {hours_ago(2): 7})
    add_points(context, scan, "event_type", screen.id, {hours_ago(3): 11, hours_ago(2): 20, hours_ago(1): 4})
    add_points(context, scan, "project_total", None, {hours_ago(3): 11, hours_ago(2): 27, hours_ago(1): 4})
    add_points(context, old_scan, "project_total", None, {hours_ago(30): 999})
    return Seeded(screen, click, home, cart, buy, old_scan, scan)


def get(client: TestClient, path: str, expect: int = 200, **params: Any) -> Any:
    response = client.get(API + path, params=params)
    assert response.status_code == expect, response.text
    return response.json()


def series(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(p["bucket"], p["count"]) for p in body["data"]]


def iso(hours: int) -> str:
    return hours_ago(hours).isoformat().replace("+00:00", "Z")


def test_event_series_comes_from_the_scan_with_its_newest_rows(seeded: Seeded, viewer: TestClient) -> None:
    body = get(viewer, f"/events/{seeded.home.id}/metrics")
    assert body["scope"] == "event" and body["event_id"] == str(seeded.home.id)
    assert body["event_type_id"] == str(seeded.screen.id)
    assert body["scan_config_id"] == str(seeded.scan.id) and body["interval"] == "1h"
    assert body["latest_signal"] is None and body["forecast"] == []
    # The 10-day-old bucket is outside the default 7-day range; the old scan's 999 is not mixed in.
    assert series(body) == [(iso(3), 10), (iso(2), 20)]
    assert all({k: p[k] for k in EMPTY_POINT} == EMPTY_POINT and p["z_score"] is None for p in body["data"])


def test_from_and_to_bound_the_buckets(seeded: Seeded, viewer: TestClient) -> None:
    path = f"/events/{seeded.home.id}/metrics"
    assert series(get(viewer, path, **{"from": iso(3), "to": iso(2)})) == [(iso(3), 10)]
    assert series(get(viewer, path, **{"from": iso(24 * 11)})) == [(iso(240), 5), (iso(3), 10), (iso(2), 20)]
    assert series(get(viewer, path, to=iso(2))) == [(iso(3), 10)]
    get(viewer, path, 422, **{"from": iso(2), "to": iso(3)})
    get(viewer, path, 422, **{"from": "yesterday"})


def test_event_without_metrics_answers_an_empty_series(
    seeded: Seeded, viewer: TestClient, context: TriplContext
) -> None:
    quiet = make_event(context, seeded.click, "quiet")
    body = get(viewer, f"/events/{quiet.id}/metrics")
    assert body["data"] == [] and body["scan_config_id"] is None and body["interval"] is None


def test_event_type_and_project_total(seeded: Seeded, viewer: TestClient) -> None:
    body = get(viewer, f"/event-types/{seeded.screen.id}/metrics")
    assert body["scope"] == "event_type" and body["event_type_id"] == str(seeded.screen.id)
    assert body["event_id"] is None and series(body) == [(iso(3), 11), (iso(2), 20), (iso(1), 4)]
    # Without a scan: the most recently created scan with a time column.
    total = get(viewer, "/metrics/total")
    assert total["scope"] == "project_total" and total["scan_config_id"] == str(seeded.scan.id)
    assert series(total) == [(iso(3), 11), (iso(2), 27), (iso(1), 4)]
    older = get(viewer, "/metrics/total", scan_config_id=str(seeded.old_scan.id))
    assert series(older) == [(iso(30), 999)]


def test_project_total_without_scans_is_empty(project: dict[str, Any], viewer: TestClient) -> None:
    body = get(viewer, "/metrics/total")
    assert body == {
        "scope": "project_total",
        "scan_config_id": None,
        "event_id": None,
        "event_type_id": None,
        "interval": None,
        "latest_signal": None,
        "data": [],
        "forecast": [],
    }


def test_events_metrics_sums_the_events_of_the_list_filters(seeded: Seeded, viewer: TestClient) -> None:
    everything = get(viewer, "/events-metrics")
    # Two scans fed these events in the range: no single scan (or interval) to name.
    assert everything["scope"] == "events" and everything["scan_config_id"] is None
    assert series(everything) == [(iso(30), 999), (iso(3), 11), (iso(2), 27), (iso(1), 4)]
    screens = get(viewer, "/events-metrics", event_type_id=str(seeded.screen.id), **{"from": iso(5)})
    assert screens["event_type_id"] == str(seeded.screen.id) and screens["scan_config_id"] == str(
        seeded.scan.id
    )
    assert series(screens) == [(iso(3), 11), (iso(2), 20), (iso(1), 4)]
    live = get(viewer, "/events-metrics", status=["live"], **{"from": iso(5)})
    assert series(live) == [(iso(3), 10), (iso(2), 27)]
    drafts_or_buys = get(viewer, "/events-metrics", status=["draft", "live"], search="ca")
    assert series(drafts_or_buys) == [(iso(3), 1), (iso(1), 4)]


def test_window_metrics_one_entry_per_requested_event(
    seeded: Seeded, key_client: Any, context: TriplContext
) -> None:
    reader = key_client("viewer", "read")  # a read-only key may call this read-only POST
    quiet = make_event(context, seeded.click, "quiet")
    ids = [str(seeded.cart.id), str(quiet.id), str(seeded.home.id)]
    response = reader.post(
        f"{API}/events/window-metrics", json={"event_ids": ids, "time_from": iso(5), "time_to": iso(1)}
    )
    assert response.status_code == 200, response.text
    cart, silent, home = response.json()
    assert [cart["event_id"], silent["event_id"], home["event_id"]] == ids
    assert cart["total_count"] == 1 and series(cart) == [(iso(3), 1)]
    assert cart["scan_config_id"] == str(seeded.scan.id) and cart["interval"] == "1h"
    assert silent == {
        "event_id": str(quiet.id),
        "scan_config_id": None,
        "interval": None,
        "total_count": 0,
        "data": [],
    }
    assert home["total_count"] == 30 and series(home) == [(iso(3), 10), (iso(2), 20)]
    assert home["data"][0]["is_anomaly"] is False
    empty = reader.post(f"{API}/events/window-metrics", json={"event_ids": []})
    assert empty.status_code == 200 and empty.json() == []


def test_window_metrics_body_is_byte_for_byte_what_the_response_model_writes(
    seeded: Seeded, viewer: TestClient, context: TriplContext
) -> None:
    """The body is serialised straight from the rows; it must stay what the schema would write."""
    quiet = make_event(context, seeded.click, "quiet")
    ids = [str(seeded.home.id), str(quiet.id), str(seeded.buy.id)]
    response = viewer.post(f"{API}/events/window-metrics", json={"event_ids": ids, "time_from": iso(48)})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    model = TypeAdapter(list[EventWindowMetricsResponse]).validate_json(response.content)
    assert response.content == TypeAdapter(list[EventWindowMetricsResponse]).dump_json(model)
    assert [len(entry.data) for entry in model] == [2, 0, 1] and model[0].interval == "1h"


def test_kpi_series_counts_events_created_per_day(
    project: dict[str, Any], viewer: TestClient, context: TriplContext
) -> None:
    screen, _ = make_event_type(context, project["id"], "screen")
    now = utcnow()
    for days_back, n in ((0, 2), (2, 3), (20, 1)):
        for i in range(n):
            make_event(context, screen, f"e{days_back}-{i}", created_at=now - timedelta(days=days_back))
    assert get(viewer, "/overview/kpi-series", days=3) == {"days": 3, "active_events": [3, 0, 2]}
    default = get(viewer, "/overview/kpi-series")
    assert (
        default["days"] == 14 and len(default["active_events"]) == 14 and sum(default["active_events"]) == 5
    )
    get(viewer, "/overview/kpi-series", 422, days=0)
    get(viewer, "/overview/kpi-series", 422, days=366)


def test_top_events_by_volume_summed_across_scans(seeded: Seeded, viewer: TestClient) -> None:
    top = get(viewer, "/overview/top-events")
    assert [(t["name"], t["total_count"]) for t in top] == [("home", 1029), ("buy", 7), ("cart", 5)]
    assert top[0] == {
        "event_id": str(seeded.home.id),
        "name": "home",
        "event_type_id": str(seeded.screen.id),
        "total_count": 1029,
    }
    recent = get(viewer, "/overview/top-events", window_hours=24, limit=2)
    assert [(t["name"], t["total_count"]) for t in recent] == [("home", 30), ("buy", 7)]
    get(viewer, "/overview/top-events", 422, window_hours=721)


def test_breakdowns_of_an_event(seeded: Seeded, viewer: TestClient, context: TriplContext) -> None:
    with context.db.transaction() as db:
        db.get(ScanConfig, seeded.scan.id).metric_breakdown_columns = ["country", "platform"]  # type: ignore[union-attr]
    rows = [
        (hours_ago(3), "DE", False, 6),
        (hours_ago(3), "US", False, 3),
        (hours_ago(3), "Other", True, 1),
        (hours_ago(2), "US", False, 15),
        (hours_ago(2), "DE", False, 5),
    ]
    add_breakdowns(context, seeded.scan, "event", seeded.home.id, "country", rows)
    add_breakdowns(
        context, seeded.scan, "event", seeded.home.id, "platform", [(hours_ago(2), "ios", False, 20)]
    )
    body = get(viewer, f"/events/{seeded.home.id}/metrics/breakdowns")
    assert body["columns"] == ["country", "platform"] and body["selected_column"] == "country"
    assert body["scan_config_id"] == str(seeded.scan.id) and body["interval"] == "1h"
    summary = [(s["breakdown_value"], s["is_other"], s["total_count"]) for s in body["series"]]
    assert summary == [("US", False, 18), ("DE", False, 11), ("Other", True, 1)]
    assert series(body["series"][0]) == [(iso(3), 3), (iso(2), 15)]
    platform = get(viewer, f"/events/{seeded.home.id}/metrics/breakdowns", column="platform", to=iso(2))
    assert platform["selected_column"] == "platform" and platform["series"] == []
    get(viewer, f"/events/{seeded.home.id}/metrics/breakdowns", 422, column="nope")


def test_breakdown_timeline(seeded: Seeded, viewer: TestClient, context: TriplContext) -> None:
    rows = [(hours_ago(3), "DE", False, 6), (hours_ago(2), "DE", False, 5), (hours_ago(2), "Other", True, 2)]
    add_breakdowns(context, seeded.scan, "event_type", seeded.screen.id, "country", rows)
    path = f"/scans/{seeded.scan.id}/breakdown-timeline"
    params = {"scope_type": "event_type", "scope_ref": str(seeded.screen.id), "breakdown_column": "country"}
    body = get(viewer, path, breakdown_value="DE", **params)
    assert body["scan_config_id"] == str(seeded.scan.id) and body["scope_type"] == "event_type"
    assert body["breakdown_value"] == "DE" and body["is_other"] is False and body["interval"] == "1h"
    assert body["data"] == [{"bucket": iso(3), "count": 6}, {"bucket": iso(2), "count": 5}]
    other = get(viewer, path, breakdown_value="Other", is_other=True, **params)
    assert other["data"] == [{"bucket": iso(2), "count": 2}]
    get(viewer, path, 422, breakdown_value="DE", **{**params, "scope_type": "schema"})
    get(viewer, path, 422, breakdown_value="DE", scope_ref="x", breakdown_column="country")


def test_seasonality_heatmap(seeded: Seeded, viewer: TestClient) -> None:
    params = {"scope_type": "project_total", "scope_ref": str(seeded.scan.id)}
    body = get(viewer, f"/scans/{seeded.scan.id}/seasonality", **params)
    assert len(body["cells"]) == 168 and body["total_count"] == 42 and body["max_count"] == 27
    cells = {(c["weekday"], c["hour"]): c for c in body["cells"]}
    two_hours_ago = hours_ago(2)
    assert cells[(two_hours_ago.weekday(), two_hours_ago.hour)]["count"] == 27
    assert all(c["anomaly_count"] == 0 for c in body["cells"])
    assert body["scope_type"] == "project_total" and body["scope_ref"] == str(seeded.scan.id)


def test_app_versions_newest_first_with_other_last(
    seeded: Seeded, viewer: TestClient, context: TriplContext
) -> None:
    add_versions(
        context,
        seeded.scan,
        "project_total",
        None,
        [
            (hours_ago(3), "1.9.0", False, 8),
            (hours_ago(3), "Other", True, 3),
            (hours_ago(2), "1.10.0", False, 20),
            (hours_ago(2), "1.10.0-beta", False, 2),
            (hours_ago(2), "1.9.0", False, 5),
        ],
    )
    add_versions(context, seeded.scan, "event", seeded.home.id, [(hours_ago(2), "1.10.0", False, 20)])
    body = get(viewer, f"/scans/{seeded.scan.id}/app-versions")
    assert body["scope_type"] == "project_total" and body["scope_ref"] == str(seeded.scan.id)
    assert body["app_version_column"] == "app_version" and body["latest_version"] == "1.10.0"
    assert body["versions"] == [
        {"version": "1.10.0", "is_other": False, "is_latest": True},
        {"version": "1.10.0-beta", "is_other": False, "is_latest": False},
        {"version": "1.9.0", "is_other": False, "is_latest": False},
        {"version": "Other", "is_other": True, "is_latest": False},
    ]
    assert [(s["version"], s["total_count"]) for s in body["series"]] == [
        ("1.10.0", 20),
        ("1.10.0-beta", 2),
        ("1.9.0", 13),
        ("Other", 3),
    ]
    assert series(body["series"][2]) == [(iso(3), 8), (iso(2), 5)]
    event = get(
        viewer, f"/scans/{seeded.scan.id}/app-versions", scope_type="event", scope_ref=str(seeded.home.id)
    )
    assert event["event_id"] == str(seeded.home.id) and event["event_type_id"] == str(seeded.screen.id)
    assert [s["version"] for s in event["series"]] == ["1.10.0"]
    adoption = get(viewer, f"/scans/{seeded.scan.id}/version-adoption")
    assert adoption["totals"] == [{"bucket": iso(3), "count": 11}, {"bucket": iso(2), "count": 27}]
    assert adoption["latest_version"] == "1.10.0" and len(adoption["series"]) == 4
    get(viewer, f"/scans/{seeded.scan.id}/app-versions", 422, scope_type="distribution")
    get(viewer, f"/scans/{seeded.scan.id}/app-versions", 422, scope_type="event", scope_ref="nope")
    # The older scan has no version column: nothing to show, said plainly.
    get(viewer, f"/scans/{seeded.old_scan.id}/app-versions", 400)
    get(viewer, f"/scans/{seeded.old_scan.id}/version-adoption", 400)


def test_ids_of_another_project_are_not_found(
    seeded: Seeded, owner: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    their_type, _ = make_event_type(context, other["id"], "screen")
    their_event = make_event(context, their_type, "home")
    their_scan = make_scan(context, other["id"], app_version_column="v")
    get(viewer, f"/events/{their_event.id}/metrics", 404)
    get(viewer, f"/events/{their_event.id}/metrics/breakdowns", 404)
    get(viewer, f"/event-types/{their_type.id}/metrics", 404)
    get(viewer, "/metrics/total", 404, scan_config_id=str(their_scan.id))
    scope = {"scope_type": "project_total", "scope_ref": str(their_scan.id)}
    get(viewer, f"/scans/{their_scan.id}/seasonality", 404, **scope)
    get(viewer, f"/scans/{their_scan.id}/app-versions", 404)
    get(viewer, f"/scans/{their_scan.id}/version-adoption", 404)
    get(
        viewer,
        f"/scans/{their_scan.id}/breakdown-timeline",
        404,
        breakdown_column="c",
        breakdown_value="v",
        **scope,
    )
    get(
        viewer,
        f"/scans/{seeded.scan.id}/app-versions",
        404,
        scope_type="event",
        scope_ref=str(their_event.id),
    )
    response = viewer.post(f"{API}/events/window-metrics", json={"event_ids": [str(their_event.id)]})
    assert response.status_code == 404 and str(their_event.id) in response.json()["detail"]
    assert viewer.get("/api/v1/projects/nope/metrics/total").status_code == 404


def test_reads_need_a_signed_in_user(seeded: Seeded, client: TestClient) -> None:
    assert client.get(f"{API}/metrics/total").status_code == 401
    assert client.post(f"{API}/events/window-metrics", json={"event_ids": []}).status_code == 401
