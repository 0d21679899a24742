"""From grouped warehouse rows to planned events, field values and variables (pure, no I/O).

Input rows are the distinct value combinations of one catalog query with their counts: scalar
columns hold raw values, a JSON column holds the key paths present in that row, and extracted JSON
values sit under their dotted key (`payload.kind`). Per event-type group (the event_type_column
value, or one group when the config maps to an event type id):
- cardinality of a column = its distinct non-null values in the group;
- identity columns (no name format) = mapped scalar columns at or under the threshold; with a
  format, the format keys are the identity and are always enumerated literally;
- columns over the threshold are templated by the variable detector (templating.py);
- JSON columns become a canonical skeleton with one `${...}` placeholder per key path, except
  paths whose values were extracted (json_value_paths, format keys), which stay literal.
A value that varies inside one event (a literal column that is not identity, or several templates)
becomes the column's variable, with the observed values as its context.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tripl.observe.scans.naming import (
    SINGLE_GROUP,
    EventIdentity,
    GroupState,
    Resolution,
    format_keys,
    render_value,
)
from tripl.observe.scans.templating import Detection, Placeholder, detect, is_number, variable_name

HIGH_SAMPLE_LIMIT = 50


@dataclass
class ObservedRow:
    values: dict[str, Any]
    count: int


@dataclass
class PlannedContext:
    placeholder: Placeholder
    column: str  # the field (column) the value belongs to
    values: list[str]
    observed_count: int
    always_high: bool = False  # JSON paths: counts are floors, never a complete list


@dataclass
class PlannedEvent:
    type_key: str
    source_name: str
    count: int = 0
    values: dict[str, str] = field(default_factory=dict)  # column -> field value text
    contexts: list[PlannedContext] = field(default_factory=list)
    rule: str | None = None


@dataclass
class GroupAnalysis:
    key: str
    identity_columns: list[str]
    literal_columns: list[str]
    templated_columns: list[str]
    json_columns: list[str]
    unmapped_columns: list[str]
    events: dict[str, PlannedEvent]
    grouped_names: int = 0  # distinct base names folded into rule groups


@dataclass
class CatalogInput:
    scalar_columns: list[str]  # non-time, non-JSON columns in query order (incl. the type column)
    json_columns: list[str]
    event_type_column: str | None
    event_name_format: str | None
    group_rules: list[dict[str, Any]]
    threshold: int
    literal_json_paths: list[str]  # dotted keys extracted as values (json_value_paths, format keys)


def group_key(row: ObservedRow, event_type_column: str | None) -> str | None:
    if not event_type_column:
        return SINGLE_GROUP
    return render_value(row.values.get(event_type_column))


def split_groups(
    rows: Iterable[ObservedRow], event_type_column: str | None
) -> dict[str | None, list[ObservedRow]]:
    groups: dict[str | None, list[ObservedRow]] = defaultdict(list)
    for row in rows:
        groups[group_key(row, event_type_column)].append(row)
    return dict(groups)


def json_paths(value: Any) -> list[str]:
    """The key paths a JSON column contributed to one row, normalised to `a.b` form."""
    if value is None:
        return []
    if isinstance(value, str):
        if value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except ValueError:
                return []
        else:  # the warehouse's comma-joined key paths (sql.json_key_paths_expr)
            value = value.split(",")
    if isinstance(value, dict):  # a raw object: walk it
        return sorted(_walk(value, ""))
    if not isinstance(value, list | tuple):
        return []
    paths = set()
    for item in value:
        text = str(item).strip()
        if text.startswith("$."):
            text = text[2:]
        elif text.startswith("$"):
            text = text[1:]
        if text:
            paths.add(text)
    return sorted(paths)


def _walk(obj: Mapping[str, Any], prefix: str) -> set[str]:
    out: set[str] = set()
    for key, value in obj.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out |= _walk(value, path + ".")
        else:
            out.add(path)
    return out


def populated_columns(
    rows: Sequence[ObservedRow], columns: Iterable[str], json_columns: Iterable[str]
) -> list[str]:
    """Columns with at least one non-null value (non-empty key set for JSON) in the rows."""
    json_set = set(json_columns)
    out = []
    for column in columns:
        if column in json_set:
            if any(json_paths(r.values.get(column)) for r in rows):
                out.append(column)
        elif any(r.values.get(column) is not None for r in rows):
            out.append(column)
    return out


def identity_columns_for(
    rows: Sequence[ObservedRow], spec: CatalogInput, mapped: set[str]
) -> tuple[list[str], list[str], list[str]]:
    """(identity, literal, templated) scalar columns of one group, in query order."""
    name_keys = format_keys(spec.event_name_format)
    identity: list[str] = []
    literal: list[str] = []
    templated: list[str] = []
    for column in spec.scalar_columns:
        if column == spec.event_type_column:
            continue
        if column in name_keys:
            literal.append(column)
            continue
        if column not in mapped:
            continue
        distinct = {render_value(r.values.get(column)) for r in rows} - {None}
        if len(distinct) <= spec.threshold:
            literal.append(column)
            if not spec.event_name_format:
                identity.append(column)
        else:
            templated.append(column)
    if spec.event_name_format:
        identity = list(name_keys)
    return identity, literal, templated


def analyse_group(
    key: str,
    rows: Sequence[ObservedRow],
    spec: CatalogInput,
    mapped: set[str],
    type_name: str,
) -> GroupAnalysis:
    identity_cols, literal_cols, templated_cols = identity_columns_for(rows, spec, mapped)
    json_cols = [c for c in spec.json_columns if c in mapped]
    unmapped = [
        c for c in spec.scalar_columns + spec.json_columns if c != spec.event_type_column and c not in mapped
    ]
    identity = EventIdentity(
        event_type_column=spec.event_type_column,
        event_name_format=spec.event_name_format,
        group_rules=spec.group_rules,
        groups={key: GroupState(tuple(identity_cols), type_name)},
        columns=spec.scalar_columns,
        json_columns=spec.json_columns,
    )
    detections: dict[str, Detection] = {}
    for column in templated_cols:
        detections[column] = detect(column, _distinct(rows, column), spec.threshold)

    by_event: dict[str, list[tuple[ObservedRow, Resolution]]] = defaultdict(list)
    grouped_bases: set[str] = set()
    for row in rows:
        resolution = identity.resolve(row.values)
        if resolution.source_name is None:
            continue
        by_event[resolution.source_name].append((row, resolution))
        if resolution.rule is not None and resolution.base_name is not None:
            grouped_bases.add(resolution.base_name)

    events: dict[str, PlannedEvent] = {}
    field_columns = [c for c in literal_cols if c in mapped]
    literal_paths = set(spec.literal_json_paths)
    for source_name, members in by_event.items():
        event = PlannedEvent(type_key=key, source_name=source_name)
        event.count = sum(r.count for r, _ in members)
        matched: dict[str, str] = {}
        for _, res in members:
            if res.rule is not None:
                event.rule = res.rule
                matched.update(res.matched_fields)
        event_rows = [r for r, _ in members]
        for column in field_columns:
            _literal_value(event, column, event_rows, matched)
        for column in templated_cols:
            _templated_value(event, column, event_rows, matched, detections[column])
        for column in json_cols:
            _json_value(event, column, event_rows, literal_paths)
        events[source_name] = event

    return GroupAnalysis(
        key=key,
        identity_columns=identity_cols,
        literal_columns=literal_cols,
        templated_columns=templated_cols,
        json_columns=json_cols,
        unmapped_columns=unmapped,
        events=events,
        grouped_names=len(grouped_bases),
    )


def _distinct(rows: Iterable[ObservedRow], key: str) -> list[str]:
    return sorted({text for r in rows if (text := render_value(r.values.get(key))) is not None})


def _varying(event: PlannedEvent, column: str, source: str, values: list[str]) -> str:
    """The source's own variable stands for a value that differs inside one event."""
    var_type = "number" if values and all(is_number(v) for v in values) else "string"
    ph = Placeholder(variable_name(source), source, var_type)
    event.contexts.append(PlannedContext(ph, column, values, len(values)))
    return "${" + ph.name + "}"


def _literal_value(
    event: PlannedEvent, column: str, rows: list[ObservedRow], matched: dict[str, str]
) -> None:
    if column in matched:
        event.values[column] = matched[column]
        return
    values = _distinct(rows, column)
    if len(values) == 1:
        event.values[column] = values[0]
    elif values:
        event.values[column] = _varying(event, column, column, values)


def _templated_value(
    event: PlannedEvent,
    column: str,
    rows: list[ObservedRow],
    matched: dict[str, str],
    detection: Detection,
) -> None:
    if column in matched:
        event.values[column] = matched[column]
        return
    values = _distinct(rows, column)
    if not values:
        return
    templated = [detection.by_value[v] for v in values]
    templates = {t.template for t in templated}
    if len(templates) > 1:
        event.values[column] = _varying(event, column, column, values)
        return
    event.values[column] = templates.pop()
    bound: dict[str, set[str]] = defaultdict(set)
    for t in templated:
        for name, value in t.bindings.items():
            bound[name].add(value)
    for name, seen in bound.items():
        ph = detection.placeholders[name]
        event.contexts.append(PlannedContext(ph, column, sorted(seen), len(seen)))


def _json_value(event: PlannedEvent, column: str, rows: list[ObservedRow], literal_paths: set[str]) -> None:
    paths: set[str] = set()
    for row in rows:
        paths.update(json_paths(row.values.get(column)))
    for key in literal_paths:  # extracted paths count even when the key set did not list them
        head, _, path = key.partition(".")
        if head == column and path and any(r.values.get(key) is not None for r in rows):
            paths.add(path)
    if not paths:
        return
    leaves = [p for p in sorted(paths) if not any(o.startswith(p + ".") for o in paths)]
    skeleton: dict[str, Any] = {}
    for path in leaves:
        dotted = f"{column}.{path}"
        if dotted in literal_paths:
            values = _distinct(rows, dotted)
            if len(values) == 1:
                leaf: Any = _json_literal(rows, dotted)
            elif values:
                leaf = _varying(event, column, dotted, values)
            else:
                leaf = None
        else:
            ph = Placeholder(variable_name(dotted), dotted, "string")
            event.contexts.append(PlannedContext(ph, column, [], 0, always_high=True))
            leaf = "${" + ph.name + "}"
        _set_path(skeleton, path.split("."), leaf)
    event.values[column] = json.dumps(skeleton, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_literal(rows: list[ObservedRow], key: str) -> Any:
    for row in rows:
        value = row.values.get(key)
        if value is not None:
            return value if isinstance(value, bool | int | float) else render_value(value)
    return None


def _set_path(target: dict[str, Any], parts: list[str], leaf: Any) -> None:
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = leaf
