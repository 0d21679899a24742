from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.observe.scan_support import Control, make_config, make_warehouse, update_config
from tests.plan.factories import make_event_type

from tripl.core.context import TriplContext
from tripl.observe.scans import catalog_writer
from tripl.observe.scans.catalog import run_catalog
from tripl.observe.scans.models import ScanConfig
from tripl.observe.scans.naming import EventIdentity
from tripl.observe.scans.runtime import ScanFailed
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventStatus
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.variables.models import ValueKind, Variable, VariableValueContext

UI_DDL = (
    "CREATE TABLE ev (ts TIMESTAMP, screen VARCHAR, button VARCHAR, user_id VARCHAR, "
    "props JSON, extra VARCHAR)"
)
USERS = [str(uuid.UUID(int=i + 1)) for i in range(20)]


def ui_rows() -> list[tuple[Any, ...]]:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for i in range(40):
        props = json.dumps({"a": i % 3, "b": {"c": "x"}})
        rows.append(
            (
                now - timedelta(hours=1),
                ["home", "cart"][i % 2],
                ["ok", "cancel"][(i // 2) % 2],
                USERS[i % 20],
                props,
                "z",
            )
        )
    rows.append((now - timedelta(hours=100), "old", "ok", USERS[0], "{}", "z"))  # outside the lookback
    return rows


def events_by_name(ctx: TriplContext, type_id: uuid.UUID | None = None) -> dict[str, Event]:
    with ctx.db.sessions() as db:
        query = select(Event)
        if type_id is not None:
            query = query.where(Event.event_type_id == type_id)
        return {e.source_name: e for e in db.scalars(query)}


def values_of(ctx: TriplContext, event: Event) -> dict[str, tuple[str, bool]]:
    with ctx.db.sessions() as db:
        rows = db.execute(
            select(FieldDefinition.name, EventFieldValue.value, EventFieldValue.authored)
            .join(FieldDefinition, FieldDefinition.id == EventFieldValue.field_definition_id)
            .where(EventFieldValue.event_id == event.id)
        )
        return {name: (value, authored) for name, value, authored in rows}


def contexts(ctx: TriplContext) -> dict[tuple[str, str], VariableValueContext]:
    with ctx.db.sessions() as db:
        rows = db.execute(
            select(Variable.name, Event.source_name, VariableValueContext)
            .join(Variable, Variable.id == VariableValueContext.variable_id)
            .join(Event, Event.id == VariableValueContext.event_id)
        )
        return {(var, event): row for var, event, row in rows}


def ui_setup(context: TriplContext, project: dict[str, Any], **config: Any) -> tuple[EventType, ScanConfig]:
    event_type, _ = make_event_type(
        context,
        project["id"],
        "ui",
        [
            {"name": "screen"},
            {"name": "button"},
            {"name": "user_id"},
            {"name": "props", "field_type": FieldType.json},
        ],
    )
    source = make_warehouse(context, UI_DDL, ui_rows())
    values: dict[str, Any] = {
        "event_type_id": event_type.id,
        "time_column": "ts",
        "scan_lookback_hours": 24,
        "cardinality_threshold": 3,
    }
    values.update(config)
    return event_type, make_config(context, project["id"], source, **values)


def test_a_catalog_run_that_sees_known_events_again_does_not_mark_them_edited(
    context: TriplContext, project: dict[str, Any]
) -> None:
    event_type, config = ui_setup(context, project)
    run_catalog(context, config.id, Control(config.id))
    first = events_by_name(context, event_type.id)
    summary = run_catalog(context, config.id, Control(config.id))
    again = events_by_name(context, event_type.id)

    assert summary["events_created"] == 0 and set(again) == set(first)
    for name, event in again.items():
        assert event.last_seen_at is not None and event.last_seen_at >= first[name].last_seen_at  # type: ignore[operator]
        assert event.updated_at == first[name].updated_at, name


def test_catalog_creates_events_values_and_variables(context: TriplContext, project: dict[str, Any]) -> None:
    event_type, config = ui_setup(context, project)
    summary = run_catalog(context, config.id, Control(config.id))

    assert summary["events_created"] == 4
    assert summary["events_skipped"] == 0
    assert summary["variables_created"] >= 1
    assert any("unmapped" in d and "extra" in d for d in summary["details"])
    events = events_by_name(context, event_type.id)
    assert set(events) == {
        "screen=home | button=ok",
        "screen=home | button=cancel",
        "screen=cart | button=ok",
        "screen=cart | button=cancel",
    }  # the 100-hour-old "old" screen is outside the 24 h lookback
    home_ok = events["screen=home | button=ok"]
    assert home_ok.status == EventStatus.in_review
    assert home_ok.description == "Auto-generated from data source scan"
    assert home_ok.name == home_ok.source_name
    assert home_ok.last_seen_at is not None
    values = values_of(context, home_ok)
    assert values["screen"] == ("home", False)
    assert values["button"] == ("ok", False)
    assert values["user_id"] == ("${user_id}", False)
    assert json.loads(values["props"][0]) == {"a": "${props_a}", "b": {"c": "${props_b_c}"}}

    with context.db.sessions() as db:
        variables = {v.name: v for v in db.scalars(select(Variable))}
    assert {"user_id", "props_a", "props_b_c"} <= set(variables)
    assert variables["user_id"].source_name == "user_id"
    assert variables["props_b_c"].source_name == "props.b.c"
    assert variables["user_id"].description == "Auto-detected variable from data source scan"
    user_ctx = contexts(context)[("user_id", "screen=home | button=ok")]
    assert user_ctx.value_kind == ValueKind.high
    assert user_ctx.observed_count == 5  # rows 0, 4, 8, ... carry users 0, 4, 8, 12, 16
    assert sorted(user_ctx.values) == sorted(USERS[i] for i in (0, 4, 8, 12, 16))

    with context.db.sessions() as db:
        stored = db.get(ScanConfig, config.id)
        assert stored is not None and stored.catalog_state is not None
    group = stored.catalog_state["groups"][""]
    assert group["identity_columns"] == ["screen", "button"]
    assert group["templated_columns"] == ["user_id"]
    # metric collection rebuilds the same names from raw rows
    identity = EventIdentity.for_config(stored)
    assert identity.group_columns == ["screen", "button"]
    assert identity.event_source_name({"screen": "cart", "button": "ok"}) == "screen=cart | button=ok"


def test_rescan_is_idempotent_keeps_authored_values_and_samples(
    context: TriplContext, project: dict[str, Any]
) -> None:
    event_type, config = ui_setup(context, project)
    run_catalog(context, config.id, Control(config.id))
    target = events_by_name(context, event_type.id)["screen=home | button=ok"]
    with context.db.transaction() as db:
        db.execute(
            update(EventFieldValue)
            .where(
                EventFieldValue.event_id == target.id,
                EventFieldValue.field_definition_id
                == select(FieldDefinition.id)
                .where(FieldDefinition.event_type_id == event_type.id, FieldDefinition.name == "button")
                .scalar_subquery(),
            )
            .values(value="The OK button", authored=True)
        )
    with context.db.transaction() as db:  # a user renamed the scan's variable
        db.execute(update(Variable).where(Variable.name == "user_id").values(name="uid"))
    before = contexts(context)

    summary = run_catalog(context, config.id, Control(config.id))
    assert summary["events_created"] == 0
    assert summary["events_skipped"] == 4
    assert summary["variables_created"] == 0  # reused by source_name despite the rename
    assert len(events_by_name(context, event_type.id)) == 4
    assert values_of(context, target)["button"] == ("The OK button", True)
    assert values_of(context, target)["user_id"] == ("${uid}", False)  # non-authored: refreshed

    # a window with no rows creates nothing and keeps every stored sample
    update_config(context, config.id, base_query="SELECT * FROM ev WHERE screen = 'nothing'")
    summary = run_catalog(context, config.id, Control(config.id))
    assert summary["events_created"] == 0
    after = contexts(context)
    assert set(after) == set(before)
    key = ("uid", "screen=home | button=ok")
    assert after[key].values == before[key].values
    assert after[key].observed_count == before[key].observed_count
    with context.db.sessions() as db:
        stored = db.get(ScanConfig, config.id)
        assert stored is not None and stored.catalog_state is not None
        assert stored.catalog_state["groups"][""]["identity_columns"] == ["screen", "button"]


def test_row_limit_overflow_fails_without_writing(context: TriplContext, project: dict[str, Any]) -> None:
    event_type, config = ui_setup(context, project, scan_row_limit=3)
    with pytest.raises(ScanFailed, match="reached the configured row limit of 3 distinct value combinations"):
        run_catalog(context, config.id, Control(config.id))
    assert events_by_name(context, event_type.id) == {}


def test_unknown_format_key_lists_available_keys(context: TriplContext, project: dict[str, Any]) -> None:
    _, config = ui_setup(context, project, event_name_format="{screen}.{nope}")
    with pytest.raises(ScanFailed) as failure:
        run_catalog(context, config.id, Control(config.id))
    message = str(failure.value)
    assert "event_name_format references unknown keys: nope" in message
    assert "Available keys: screen, button, user_id, extra, props.<path>" in message


def test_config_without_type_fails(context: TriplContext, project: dict[str, Any]) -> None:
    source = make_warehouse(context, UI_DDL, ui_rows())
    config = make_config(context, project["id"], source)
    with pytest.raises(ScanFailed, match="neither an event type nor an event type column"):
        run_catalog(context, config.id, Control(config.id))


GROUPED_DDL = "CREATE TABLE ev (kind VARCHAR, screen VARCHAR, props JSON, price DOUBLE)"


def grouped_rows() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i in range(12):
        rows.append(("click", f"/product/{i}", json.dumps({"kind": "tap", "n": i}), None))
        rows.append(("view", "home", json.dumps({"kind": "open"}), float(i % 2)))
    return rows


def test_grouped_scan_auto_creates_types_and_names_by_format(
    context: TriplContext, project: dict[str, Any]
) -> None:
    source = make_warehouse(context, GROUPED_DDL, grouped_rows())
    config = make_config(
        context,
        project["id"],
        source,
        event_type_column="kind",
        event_name_format="{screen}:{props.kind}",
        cardinality_threshold=5,
    )
    summary = run_catalog(context, config.id, Control(config.id))
    assert summary["event_types_created"] == 2
    with context.db.sessions() as db:
        types = {t.name: t for t in db.scalars(select(EventType))}
        fields = {
            (t, f.name): f.field_type
            for t, f in db.execute(select(EventType.name, FieldDefinition).join(FieldDefinition))
        }
    assert set(types) == {"click", "view"}
    # only columns the group populates become fields (click never has a price)
    assert fields == {
        ("click", "screen"): FieldType.string,
        ("click", "props"): FieldType.json,
        ("view", "screen"): FieldType.string,
        ("view", "props"): FieldType.json,
        ("view", "price"): FieldType.string,
    }
    clicks = events_by_name(context, types["click"].id)
    assert len(clicks) == 12  # the format's columns are the identity, always literal
    assert "/product/3:tap" in clicks
    values = values_of(context, clicks["/product/3:tap"])
    assert values["screen"] == ("/product/3", False)
    assert json.loads(values["props"][0]) == {"kind": "tap", "n": "${props_n}"}
    views = events_by_name(context, types["view"].id)
    assert set(views) == {"home:open"}
    assert values_of(context, views["home:open"])["price"] == ("${price}", False)
    ctx = contexts(context)[("price", "home:open")]
    assert ctx.value_kind == ValueKind.low and sorted(ctx.values) == ["0", "1"]

    with context.db.sessions() as db:
        stored = db.get(ScanConfig, config.id)
    assert stored is not None
    identity = EventIdentity.for_config(stored)
    assert identity.group_columns == ["kind", "screen", "props.kind"]
    assert identity.json_path("props.kind") == ("props", "kind")
    assert identity.event_source_name({"kind": "click", "screen": "/product/3", "props.kind": "tap"}) == (
        "/product/3:tap"
    )

    # a second run reuses the types
    summary = run_catalog(context, config.id, Control(config.id))
    assert summary["event_types_created"] == 0 and summary["events_created"] == 0


def test_group_rules_fold_events_into_the_rule_event(context: TriplContext, project: dict[str, Any]) -> None:
    source = make_warehouse(context, GROUPED_DDL, grouped_rows())
    rules = [
        {
            "name": "Product page",
            "condition_logic": "all",
            "conditions": [{"field": "screen", "pattern": "^/product/"}],
        }
    ]
    config = make_config(
        context,
        project["id"],
        source,
        event_type_column="kind",
        event_name_format="{screen}",
        event_group_rules=rules,
        cardinality_threshold=5,
    )
    summary = run_catalog(context, config.id, Control(config.id))
    assert summary["events_grouped"] == 12
    assert summary["events_merged"] == 11
    with context.db.sessions() as db:
        types = {t.name: t for t in db.scalars(select(EventType))}
    clicks = events_by_name(context, types["click"].id)
    assert set(clicks) == {"Product page"}
    assert values_of(context, clicks["Product page"])["screen"] == ("/^/product//", False)
    assert set(events_by_name(context, types["view"].id)) == {"home"}
    with context.db.sessions() as db:
        stored = db.get(ScanConfig, config.id)
    assert stored is not None
    assert EventIdentity.for_config(stored).event_source_name({"kind": "click", "screen": "/product/99"}) == (
        "Product page"
    )


def test_cancel_before_writing_leaves_the_plan_alone(context: TriplContext, project: dict[str, Any]) -> None:
    event_type, config = ui_setup(context, project)
    summary = run_catalog(context, config.id, Control(config.id, cancel=True))
    assert summary["events_created"] == 0
    assert "Cancelled before anything was written." in summary["details"]
    assert events_by_name(context, event_type.id) == {}


def test_without_a_lookback_a_scheduled_collection_catalogs_only_its_window(
    context: TriplContext, project: dict[str, Any]
) -> None:
    event_type, config = ui_setup(context, project, scan_lookback_hours=None)
    now = datetime.now(UTC)
    run_catalog(context, config.id, Control(config.id), fallback_window=(now - timedelta(hours=3), now))
    assert not any(name.startswith("screen=old") for name in events_by_name(context, event_type.id))

    run_catalog(context, config.id, Control(config.id))  # a manual run reads the whole query
    assert any(name.startswith("screen=old") for name in events_by_name(context, event_type.id))


def test_new_events_are_capped_per_pass_and_the_next_run_continues(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, project: dict[str, Any]
) -> None:
    monkeypatch.setattr(catalog_writer, "MAX_NEW_EVENTS", 3)
    event_type, config = ui_setup(context, project)
    first = run_catalog(context, config.id, Control(config.id))
    assert first["events_created"] == 3
    assert any("1 new events were not created: at most 3 per run" in d for d in first["details"])
    assert len(events_by_name(context, event_type.id)) == 3

    second = run_catalog(context, config.id, Control(config.id))
    assert second["events_created"] == 1 and len(events_by_name(context, event_type.id)) == 4
