from __future__ import annotations

import datetime as dt
import decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tripl.observe.scans.naming import (
    EventIdentity,
    IdentityError,
    columns_name,
    format_keys,
    render_value,
)


def config(**kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "event_type_column": None,
        "event_name_format": None,
        "event_group_rules": [],
        "catalog_state": None,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def state(groups: dict[str, list[str]], columns: list[str], json_columns: list[str] = ()) -> dict[str, Any]:
    return {
        "version": 1,
        "columns": columns,
        "json_columns": list(json_columns),
        "groups": {k: {"identity_columns": v, "type_name": f"type_{k or 'main'}"} for k, v in groups.items()},
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (True, "true"),
        (False, "false"),
        (3.0, "3"),
        (2.5, "2.5"),
        (7, "7"),
        (decimal.Decimal("4.00"), "4"),
        (decimal.Decimal("4.50"), "4.5"),
        ("x", "x"),
        ({"b": 1, "a": [1, 2]}, '{"a":[1,2],"b":1}'),
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2026-01-02T03:04:05+00:00"),
    ],
)
def test_render_value(value: Any, text: str | None) -> None:
    assert render_value(value) == text


def test_format_keys_in_order_without_duplicates() -> None:
    assert format_keys("{screen}:{ event.category }/{screen}") == ["screen", "event.category"]
    assert format_keys(None) == []


def test_columns_name_skips_nulls_and_cuts_long_values() -> None:
    long = "x" * 81
    assert columns_name(["a", "b", "c"], {"a": "1", "b": None, "c": long}) == f"a=1 | c={'x' * 77}..."
    assert columns_name(["a"], {"a": "y" * 80}) == "a=" + "y" * 80


def test_format_identity_groups_by_type_and_format_keys() -> None:
    identity = EventIdentity.for_config(
        config(event_type_column="kind", event_name_format="{screen}.{payload.action}")
    )
    assert identity.group_columns == ["kind", "screen", "payload.action"]
    assert identity.json_path("payload.action") == ("payload", "action")
    assert identity.json_path("screen") is None
    row = {"kind": "click", "screen": "home", "payload.action": "tap"}
    assert identity.event_type_key(row) == "click"
    assert identity.event_source_name(row) == "home.tap"
    # NULL values render empty; a row without a type value has no identity
    assert identity.event_source_name({"kind": "click", "screen": None, "payload.action": "x"}) == ".x"
    assert identity.event_source_name({"kind": None, "screen": "a", "payload.action": "b"}) is None


def test_event_type_id_mode_has_no_type_key() -> None:
    identity = EventIdentity.for_config(config(event_name_format="{name}"))
    assert identity.event_type_key({"name": "x"}) is None
    assert identity.event_source_name({"name": "x"}) == "x"
    assert identity.event_source_name({"name": None}) is None
    assert identity.event_source_name({"name": "  "}) is None


def test_without_format_uses_catalog_identity_columns_per_group() -> None:
    cfg = config(
        event_type_column="kind",
        catalog_state=state(
            {"click": ["screen", "button"], "view": ["screen"]}, ["kind", "screen", "url", "button"]
        ),
    )
    identity = EventIdentity.for_config(cfg)
    # ordered by query column order, type column first
    assert identity.group_columns == ["kind", "screen", "button"]
    assert (
        identity.event_source_name({"kind": "click", "screen": "home", "button": "ok"})
        == "screen=home | button=ok"
    )
    assert identity.event_source_name({"kind": "view", "screen": "home", "button": "ok"}) == "screen=home"
    # a group the catalog never saw is unmatched
    assert identity.event_source_name({"kind": "new", "screen": "home"}) is None
    # all identity values NULL -> named after the type
    assert identity.event_source_name({"kind": "view", "screen": None}) == "type_view"


def test_without_format_and_without_state_nothing_matches() -> None:
    identity = EventIdentity.for_config(config(event_type_column="kind"))
    assert identity.group_columns == ["kind"]
    assert identity.event_source_name({"kind": "a"}) is None


def test_single_group_state_key() -> None:
    identity = EventIdentity.for_config(config(catalog_state=state({"": ["a"]}, ["a", "b"])))
    assert identity.group_columns == ["a"]
    assert identity.event_source_name({"a": 5.0, "b": "ignored"}) == "a=5"


def test_group_rules_first_match_wins_and_add_their_columns() -> None:
    rules = [
        {
            "name": "Product view",
            "condition_logic": "all",
            "conditions": [
                {"field": "screen", "pattern": "^product/"},
                {"field": "event_name", "pattern": "view"},
            ],
        },
        {
            "name": "Any product",
            "condition_logic": "any",
            "conditions": [
                {"field": "screen", "pattern": "product"},
                {"field": "section", "pattern": "^shop$"},
            ],
        },
    ]
    identity = EventIdentity.for_config(
        config(event_name_format="{action}:{screen}", event_group_rules=rules)
    )
    assert identity.group_columns == ["action", "screen", "section"]
    first = identity.resolve({"action": "view", "screen": "product/12", "section": None})
    assert first.source_name == "Product view"
    assert first.base_name == "view:product/12"
    assert first.matched_fields == {"screen": "/^product//", "event_name": "/view/"}
    second = identity.resolve({"action": "buy", "screen": "cart", "section": "shop"})
    assert second.source_name == "Any product"
    assert second.matched_fields == {"section": "/^shop$/"}
    plain = identity.resolve({"action": "buy", "screen": "cart", "section": "home"})
    assert plain.rule is None and plain.source_name == "buy:cart"


def test_rule_regex_uses_search_and_dotall() -> None:
    rules = [{"name": "multi", "conditions": [{"field": "__event_name", "pattern": "a.b"}]}]
    identity = EventIdentity.for_config(config(event_name_format="x{v}", event_group_rules=rules))
    assert identity.event_source_name({"v": "a\nb"}) == "multi"


def test_invalid_rule_pattern_is_reported() -> None:
    rules = [{"name": "bad", "conditions": [{"field": "a", "pattern": "("}]}]
    with pytest.raises(IdentityError, match="invalid pattern"):
        EventIdentity.for_config(config(event_name_format="{a}", event_group_rules=rules))


def test_long_names_are_cut_to_500() -> None:
    identity = EventIdentity.for_config(config(event_name_format="{a}{b}"))
    name = identity.event_source_name({"a": "x" * 300, "b": "y" * 300})
    assert name is not None and len(name) == 500 and name.endswith("...")


def test_json_path_keys_follow_state_json_columns() -> None:
    cfg = config(
        event_name_format="{payload.kind}-{a.b}",
        catalog_state=state({}, ["payload", "a.b"], ["payload"]),
    )
    identity = EventIdentity.for_config(cfg)
    assert identity.json_path("payload.kind") == ("payload", "kind")
    assert identity.json_path("a.b") is None  # a real column whose name contains a dot


def test_a_column_named_like_the_event_name_pseudo_field_is_still_read_for_the_format() -> None:
    identity = EventIdentity(
        event_type_column="event_type",
        event_name_format="{event_name}",
        group_rules=[{"name": "taps", "conditions": [{"field": "event_name", "pattern": "_tap$"}]}],
    )
    assert identity.group_columns == ["event_type", "event_name"]
    assert identity.event_source_name({"event_type": "click", "event_name": "share_tap"}) == "taps"
    assert identity.event_source_name({"event_type": "click", "event_name": "open"}) == "open"
