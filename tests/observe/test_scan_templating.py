from __future__ import annotations

import json
import uuid

import pytest

from tripl.observe.scans.templating import detect, variable_name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("screen", "screen"),
        ("Event.Category", "event_category"),
        ("1st", "v_1st"),
        ("__", "v"),
        ("A-B c", "a_b_c"),
    ],
)
def test_variable_name_follows_the_variable_rule(text: str, name: str) -> None:
    assert variable_name(text) == name


def test_numbers_become_one_number_variable() -> None:
    found = detect("price", [str(i) for i in range(50)] + ["2.5"], threshold=10)
    assert found.strategy == "scalar"
    assert set(found.placeholders) == {"price"}
    assert found.placeholders["price"].variable_type == "number"
    assert found.by_value["7"].template == "${price}"
    assert found.by_value["7"].bindings == {"price": "7"}


def test_uuids_become_one_variable() -> None:
    values = [str(uuid.uuid4()) for _ in range(20)]
    found = detect("user_id", values, threshold=5)
    assert found.strategy == "scalar"
    assert {t.template for t in found.by_value.values()} == {"${user_id}"}


def test_paths_keep_constant_segments_and_name_positions() -> None:
    values = [f"/users/{i}/edit" for i in range(30)] + [f"/items/{uuid.uuid4()}" for _ in range(2)]
    found = detect("path", values, threshold=5)
    assert found.strategy == "path"
    assert found.by_value["/users/3/edit"].template == "/users/${path_segment_2}/edit"
    assert found.by_value["/users/3/edit"].bindings == {"path_segment_2": "3"}


def test_numeric_path_position_is_an_id() -> None:
    values = [f"/users/{i}" for i in range(30)]
    found = detect("screen", values, threshold=100)  # position threshold caps at 10
    assert found.by_value["/users/12"].template == "/users/${screen_id}"
    assert found.placeholders["screen_id"].variable_type == "number"


def test_uuid_path_position_and_urls() -> None:
    ids = [str(uuid.uuid4()) for _ in range(12)]
    values = [f"https://shop.example/o/{i}?x=1" for i in ids]
    found = detect("url", values, threshold=3)
    # the query string stays in the last segment, so it varies with the id
    assert found.strategy == "path"
    values = [f"https://shop.example/o/{i}/view" for i in ids]
    found = detect("url", values, threshold=3)
    assert found.by_value[values[0]].template == "https://shop.example/o/${url_uuid}/view"


def test_mostly_paths_fall_back_per_value() -> None:
    values = [f"/p/{i}" for i in range(20)] + ["home", "cart"]
    found = detect("screen", values, threshold=5)
    assert found.strategy == "path"
    assert found.by_value["home"].template == "${screen}"
    assert found.by_value["/p/4"].template == "/p/${screen_id}"


def test_json_object_strings_template_high_cardinality_keys_only() -> None:
    values = [json.dumps({"kind": "a" if i % 2 else "b", "id": i}) for i in range(40)]
    found = detect("props", values, threshold=5)
    assert found.strategy == "json_object"
    assert set(found.placeholders) == {"id"}
    assert found.placeholders["id"].source_name == "props.id"
    tpl = found.by_value[values[3]]
    assert json.loads(tpl.template) == {"kind": "a", "id": "${id}"}
    assert tpl.bindings == {"id": "3"}


def test_delimiter_split_keeps_literal_parts() -> None:
    values = [f"order_{i}_done" for i in range(30)]
    found = detect("step", values, threshold=5)
    assert found.strategy == "delimited"
    assert found.by_value["order_4_done"].template == "order_${step_id}_done"
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    values = [f"btn-{w}" for w in words]
    found = detect("button", values, threshold=3)
    assert found.by_value["btn-alpha"].template == "btn-${button_part_1}"


def test_free_text_falls_back_to_the_column_variable() -> None:
    found = detect("text", ["héllo", "wörld", "foo", "bar"], threshold=1)
    assert found.strategy == "fallback"
    assert found.by_value["foo"].template == "${text}"
    assert found.by_value["foo"].bindings == {"text": "foo"}
    # every position varies: delimiter split is not useful
    found = detect("text", [f"{a} {b}" for a in "abcdefghijklm" for b in "nopqrstuvwxyz"], threshold=3)
    assert found.strategy == "fallback"


def test_detection_is_deterministic() -> None:
    values = [f"/a/{i}" for i in range(15)]
    assert detect("c", values, 3) == detect("c", list(values), 3)
