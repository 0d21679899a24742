"""Event identity: how one warehouse row becomes the `source_name` of a plan event (pure).

The catalog pipeline and metric collection must agree exactly on which event a row belongs to,
so both go through `EventIdentity`:

    identity = EventIdentity.for_config(config)      # config.catalog_state is read, not written
    identity.group_columns      # keys a grouped/bucketed query must GROUP BY (select them under
                                # these names); a key is a JSON path when `json_path(key)` says so
    identity.event_type_key(row)     # the event_type_column value, or None (config maps to event_type_id)
    identity.event_source_name(row)  # Event.source_name after group rules, or None (row unmatched)

`row` maps every key of `group_columns` to the raw warehouse value (other keys are ignored).

Rules, in order:
1. Base name. With `event_name_format`, every `{key}` is replaced by the rendered value of that
   column or dotted JSON path (missing/NULL -> ""). Without a format, the name is
   `col=value | col2=value2` over the group's *identity columns* in query order (NULL values are
   left out; values longer than 80 characters are cut to 77 + "..."). Identity columns are the
   columns the last catalog run enumerated literally for that event-type group (low cardinality);
   templated (high-cardinality) and JSON columns become field values with variables, never
   identity. They are stored in `catalog_state` (see below); a group the catalog has not seen yet
   gives None. A group whose identity columns are all NULL (or has none) is named after its type.
2. Group rules (`event_group_rules`, first match wins): conditions on columns, dotted JSON paths
   or the pseudo-fields `event_name`/`__event_name` (the base name); `re.search` with DOTALL on
   the rendered value ("" for NULL). On a match the identity is the rule name.
3. Names are cut to 500 characters (497 + "..."); a blank name is None.

Values are rendered by `render_value` (NULL -> None, booleans `true`/`false`, integral floats
without `.0`, datetimes ISO 8601, JSON containers canonical compact JSON).

`catalog_state` (written by the catalog pipeline, version 1):
    {"version": 1, "columns": [non-time columns in query order], "json_columns": [...],
     "groups": {"<event_type_column value, or '' when mapped to event_type_id>":
                 {"event_type_id": "...", "type_name": "...", "identity_columns": [...],
                  "templated_columns": [...], "unmapped_columns": [...]}}}
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_NAME_LENGTH = 500
MAX_NAME_VALUE_LENGTH = 80
EVENT_NAME_FIELDS = frozenset({"event_name", "__event_name"})
SINGLE_GROUP = ""  # catalog_state group key when every row maps to the config's event_type_id
STATE_VERSION = 1

_FORMAT_KEY = re.compile(r"\{([^{}]+)\}")


class IdentityError(ValueError):
    """The config cannot name events (bad regex in a group rule); the message is for users."""


def render_value(value: Any) -> str | None:
    """One canonical text for a warehouse value, identical wherever names or values are built."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value():
            return str(value.quantize(decimal.Decimal(1)))
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_keys(event_name_format: str | None) -> list[str]:
    """The `{key}` placeholders of a name format, in order of first appearance."""
    if not event_name_format:
        return []
    keys: list[str] = []
    for match in _FORMAT_KEY.finditer(event_name_format):
        key = match.group(1).strip()
        if key and key not in keys:
            keys.append(key)
    return keys


def render_format(event_name_format: str, values: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        return render_value(values.get(match.group(1).strip())) or ""

    return _FORMAT_KEY.sub(replace, event_name_format)


def columns_name(columns: Sequence[str], values: Mapping[str, Any]) -> str:
    parts = []
    for column in columns:
        text = render_value(values.get(column))
        if text is not None:
            parts.append(f"{column}={shorten(text, MAX_NAME_VALUE_LENGTH)}")
    return " | ".join(parts)


def finish_name(name: str) -> str | None:
    if not name.strip():
        return None
    return shorten(name, MAX_NAME_LENGTH)


@dataclass(frozen=True)
class Condition:
    field: str
    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class GroupRule:
    name: str
    match_all: bool
    conditions: tuple[Condition, ...]

    @staticmethod
    def parse(raw: Mapping[str, Any]) -> GroupRule:
        name = str(raw.get("name") or "").strip()
        conditions = []
        for cond in raw.get("conditions") or []:
            pattern = str(cond.get("pattern", ""))
            try:
                regex = re.compile(pattern, re.DOTALL)
            except re.error as exc:
                raise IdentityError(
                    f"Event group rule {name!r} has an invalid pattern {pattern!r}: {exc}"
                ) from None
            conditions.append(Condition(str(cond.get("field", "")).strip(), pattern, regex))
        logic = str(raw.get("condition_logic") or "all").lower()
        return GroupRule(name=name, match_all=logic != "any", conditions=tuple(conditions))

    def match(self, values: Mapping[str, str]) -> dict[str, str] | None:
        """Matched fields -> `/<pattern>/` when the rule applies, else None."""
        if not self.name or not self.conditions:
            return None
        matched: dict[str, str] = {}
        for cond in self.conditions:
            if cond.regex.search(values.get(cond.field, "")):
                matched[cond.field] = f"/{cond.pattern}/"
            elif self.match_all:
                return None
        return matched or None


@dataclass(frozen=True)
class Resolution:
    """How one row was named: its type key, base name, final identity and the rule that grouped it."""

    type_key: str | None
    base_name: str | None
    source_name: str | None
    rule: str | None = None
    matched_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupState:
    identity_columns: tuple[str, ...]
    type_name: str = ""


class EventIdentity:
    def __init__(
        self,
        *,
        event_type_column: str | None,
        event_name_format: str | None,
        group_rules: Sequence[Mapping[str, Any]] = (),
        groups: Mapping[str, GroupState] | None = None,
        columns: Sequence[str] = (),
        json_columns: Sequence[str] = (),
    ) -> None:
        self.event_type_column = event_type_column or None
        self.event_name_format = event_name_format or None
        self.rules = [GroupRule.parse(r) for r in group_rules]
        self.groups: dict[str, GroupState] = dict(groups or {})
        self.columns = list(columns)
        self.json_columns = list(json_columns)
        self.format_keys = format_keys(self.event_name_format)

        keys: list[str] = []

        def add(key: str) -> None:
            if key and key not in keys:
                keys.append(key)

        if self.event_type_column:
            add(self.event_type_column)
        if self.event_name_format:
            for key in self.format_keys:
                add(key)
        else:
            ordered = {c for g in self.groups.values() for c in g.identity_columns}
            for column in self.columns:
                if column in ordered:
                    add(column)
            for group in self.groups.values():  # columns missing from `columns` (older states)
                for column in group.identity_columns:
                    add(column)
        for rule in self.rules:
            for cond in rule.conditions:
                # In a rule, event_name/__event_name is the built name, not a column to read.
                if cond.field not in EVENT_NAME_FIELDS:
                    add(cond.field)
        self.group_columns: list[str] = keys

    @classmethod
    def for_config(cls, config: Any, state: Mapping[str, Any] | None = None) -> EventIdentity:
        """Identity of a ScanConfig; `state` defaults to its stored `catalog_state`."""
        state = state if state is not None else (getattr(config, "catalog_state", None) or {})
        groups = {
            str(key): GroupState(
                identity_columns=tuple(value.get("identity_columns") or ()),
                type_name=str(value.get("type_name") or ""),
            )
            for key, value in (state.get("groups") or {}).items()
        }
        return cls(
            event_type_column=config.event_type_column,
            event_name_format=config.event_name_format,
            group_rules=config.event_group_rules or [],
            groups=groups,
            columns=state.get("columns") or [],
            json_columns=state.get("json_columns") or [],
        )

    def json_path(self, key: str) -> tuple[str, str] | None:
        """(column, path) when a group key is a dotted path into a JSON column, else None."""
        if key in self.columns or "." not in key:
            return None
        column, path = key.split(".", 1)
        if self.json_columns and column not in self.json_columns:
            return None
        return column, path

    def event_type_key(self, row: Mapping[str, Any]) -> str | None:
        if not self.event_type_column:
            return None
        return render_value(row.get(self.event_type_column))

    def base_name(self, row: Mapping[str, Any], type_key: str | None) -> str | None:
        if self.event_name_format:
            return finish_name(render_format(self.event_name_format, row))
        group = self.groups.get(SINGLE_GROUP if type_key is None else type_key)
        if group is None:
            return None
        name = columns_name(group.identity_columns, row)
        if not name:
            name = group.type_name or (type_key or "")
        return finish_name(name)

    def resolve(self, row: Mapping[str, Any]) -> Resolution:
        type_key = self.event_type_key(row)
        if self.event_type_column and type_key is None:
            return Resolution(type_key=None, base_name=None, source_name=None)
        base = self.base_name(row, type_key)
        if base is None:
            return Resolution(type_key=type_key, base_name=None, source_name=None)
        if self.rules:
            texts = {key: render_value(row.get(key)) or "" for key in self.group_columns}
            for pseudo in EVENT_NAME_FIELDS:
                texts[pseudo] = base
            for rule in self.rules:
                matched = rule.match(texts)
                if matched is not None:
                    return Resolution(type_key, base, finish_name(rule.name), rule.name, matched)
        return Resolution(type_key=type_key, base_name=base, source_name=base)

    def event_source_name(self, row: Mapping[str, Any]) -> str | None:
        return self.resolve(row).source_name
