from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.observe.metric_support import put_points
from tests.observe.scan_support import Control, make_config, make_warehouse
from tests.plan.factories import make_event, make_event_type

from tripl.core.context import TriplContext
from tripl.observe.metrics.models import BreakdownPoint, MetricPoint, MetricScopeType, SeriesKind
from tripl.observe.scans.groups import apply_event_groups
from tripl.observe.scans.runtime import ScanFailed
from tripl.plan.events.models import Event, EventStatus, EventTag
from tripl.plan.photos.models import EventPhoto, PhotoKind

B1 = datetime(2026, 1, 1, 10, tzinfo=UTC)
B2 = B1 + timedelta(hours=1)
RULES = [
    {
        "name": "Products",
        "condition_logic": "any",
        "conditions": [{"field": "event_name", "pattern": "^product_"}],
    },
    {"name": "Checkout", "conditions": [{"field": "step", "pattern": "^pay"}]},
]


def event_scope(event: Event) -> dict[str, Any]:
    return {
        "scope_type": MetricScopeType.event,
        "scope_ref": str(event.id),
        "event_type_id": event.event_type_id,
        "event_id": event.id,
    }


def test_apply_event_groups_merges_metrics_tags_and_photos(
    context: TriplContext, project: dict[str, Any]
) -> None:
    event_type, (step,) = make_event_type(context, project["id"], "ui", [{"name": "step"}])
    other_type, _ = make_event_type(context, project["id"], "other")
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    one = make_event(context, event_type, "product_1", status=EventStatus.live, last_seen_at=seen)
    two = make_event(context, event_type, "product_2", status=EventStatus.in_review)
    pay = make_event(context, event_type, "payment", {step: "payment form"})
    keep = make_event(context, event_type, "home")
    elsewhere = make_event(context, other_type, "product_9")  # another type: not this config's
    source = make_warehouse(context, "CREATE TABLE ev (x INTEGER)", [])
    config = make_config(context, project["id"], source, event_type_id=event_type.id, event_group_rules=RULES)
    with context.db.transaction() as db:
        put_points(db, config.id, event_scope(one), {B1: 5})
        put_points(db, config.id, event_scope(two), {B1: 7, B2: 3})  # B1 clashes with one's once merged
        for event, value, count in ((one, "ios", 2), (two, "ios", 4), (two, "web", 1)):
            put_points(
                db, config.id, event_scope(event), {B1: count},
                kind=SeriesKind.breakdown, column="platform", value=value,
            )  # fmt: skip
        db.add_all([EventTag(event_id=one.id, name="shop"), EventTag(event_id=two.id, name="shop")])
        db.add(EventTag(event_id=two.id, name="beta"))
        db.add(
            EventPhoto(
                event_id=two.id, project_id=event_type.project_id, kind=PhotoKind.figma, external_url="x"
            )
        )

    summary = apply_event_groups(context, config.id, Control(config.id))
    assert summary["events_merged"] == 3
    assert summary["groups_created"] == 2

    with context.db.sessions() as db:
        events = {
            e.source_name: e for e in db.scalars(select(Event).where(Event.event_type_id == event_type.id))
        }
        assert set(events) == {"Products", "Checkout", "home"}
        products = events["Products"]
        assert products.status == EventStatus.live  # the more advanced status of the merged events
        assert products.last_seen_at == seen
        metrics = {
            (p.bucket, p.scope_ref): p.count
            for p in db.scalars(select(MetricPoint).where(MetricPoint.event_id == products.id))
        }
        assert metrics == {(B1, str(products.id)): 12, (B2, str(products.id)): 3}
        breakdowns = {
            b.value: b.count
            for b in db.scalars(select(BreakdownPoint).where(BreakdownPoint.event_id == products.id))
        }
        assert breakdowns == {"ios": 6, "web": 1}
        assert db.scalar(select(MetricPoint).where(MetricPoint.event_id.in_([one.id, two.id]))) is None
        tags = set(db.scalars(select(EventTag.name).where(EventTag.event_id == products.id)))
        assert tags == {"shop", "beta"}
        photos = list(db.scalars(select(EventPhoto.event_id)))
        assert photos == [products.id]
        assert db.get(Event, elsewhere.id) is not None
        assert db.get(Event, keep.id) is not None
        assert db.get(Event, pay.id) is None

    # a second pass has nothing left to merge
    summary = apply_event_groups(context, config.id, Control(config.id))
    assert summary == {"events_merged": 0, "groups_created": 0, "details": summary["details"]}


def test_apply_event_groups_needs_rules(context: TriplContext, project: dict[str, Any]) -> None:
    event_type, _ = make_event_type(context, project["id"], "ui")
    source = make_warehouse(context, "CREATE TABLE ev (x INTEGER)", [])
    config = make_config(context, project["id"], source, event_type_id=event_type.id)
    with pytest.raises(ScanFailed, match="This scan config has no event group rules"):
        apply_event_groups(context, config.id, Control(config.id))
