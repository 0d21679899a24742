"""Variable detector: turns the many values of a high-cardinality column into few templates (pure).

`detect(column, values, threshold)` looks at the distinct rendered values of one column in one
event-type group and picks the first strategy that fits:
1. JSON objects (every value parses to an object): keys with more than `threshold` distinct
   values become `${key}`, the rest stay literal; the template is canonical compact JSON.
2. Paths/URLs (at least 70 % start with `/` or `scheme://`): split on `/`; a position with more
   than min(threshold, 10) distinct values becomes `${col_id}` (all numeric), `${col_uuid}`
   (all UUIDs) or `${col_segment_<i>}`. Values that are not paths fall back to `${col}`.
3. All numeric or all UUIDs: `${col}`.
4. Delimiter split on `_ - . space`: positions with more than min(threshold, 10) distinct values
   become `${col_id}` (numeric) or `${col_part_<i>}`; used only when some text stays literal.
5. Otherwise `${col}`.

The result maps each value to its template and to the placeholder values it bound, so the caller
can record the observed values of every variable. A placeholder's `source_name` is the column,
`column.key` for JSON object keys, or `column[i]` for a path/delimiter position, so two positions
of one column stay two variables. Placeholder names are proposals that follow
the variable name rule (`^[a-z][a-z0-9_]*$`); the caller may map them to existing variables.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PATH_SHARE = 0.7
MAX_POSITION_THRESHOLD = 10
MAX_VARIABLE_NAME = 100

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_URL_PREFIX = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/]*")
_DELIMITERS = re.compile(r"([_\-. ])")


@dataclass(frozen=True)
class Placeholder:
    name: str  # proposed variable name (also the text inside `${...}`)
    source_name: str  # raw column or dotted path the values come from
    variable_type: str  # VariableType value: string | number


@dataclass
class Templated:
    template: str
    bindings: dict[str, str] = field(default_factory=dict)  # placeholder name -> bound value


@dataclass
class Detection:
    strategy: str  # json_object | path | scalar | delimited | fallback
    placeholders: dict[str, Placeholder]
    by_value: dict[str, Templated]


def variable_name(text: str) -> str:
    """A valid variable name derived from a column or path (`Event.Category` -> `event_category`)."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = "v_" + name if name else "v"
    return name[:MAX_VARIABLE_NAME].rstrip("_")


def placeholder_text(name: str) -> str:
    return "${" + name + "}"


def is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def detect(column: str, values: Iterable[str], threshold: int) -> Detection:
    distinct = list(dict.fromkeys(values))
    for strategy in (_json_objects, _paths, _scalars, _delimited):
        found = strategy(column, distinct, threshold)
        if found is not None:
            return found
    return _fallback(column, distinct, "fallback")


def _fallback(column: str, values: Sequence[str], strategy: str, var_type: str = "string") -> Detection:
    ph = Placeholder(variable_name(column), column, var_type)
    text = placeholder_text(ph.name)
    return Detection(
        strategy=strategy,
        placeholders={ph.name: ph},
        by_value={v: Templated(text, {ph.name: v}) for v in values},
    )


def _scalars(column: str, values: Sequence[str], threshold: int) -> Detection | None:
    if values and all(is_number(v) for v in values):
        return _fallback(column, values, "scalar", "number")
    if values and all(is_uuid(v) for v in values):
        return _fallback(column, values, "scalar")
    return None


def _json_objects(column: str, values: Sequence[str], threshold: int) -> Detection | None:
    parsed: dict[str, dict[str, object]] = {}
    for value in values:
        if not value.startswith("{"):
            return None
        try:
            obj = json.loads(value)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        parsed[value] = obj
    if not parsed:
        return None
    seen: dict[str, set[str]] = defaultdict(set)
    for obj in parsed.values():
        for key, item in obj.items():
            seen[key].add(_canonical(item))
    placeholders: dict[str, Placeholder] = {}
    key_names: dict[str, str] = {}
    for key in seen:
        if len(seen[key]) > threshold:
            name = _unique(variable_name(key), placeholders)
            placeholders[name] = Placeholder(name, f"{column}.{key}", "string")
            key_names[key] = name
    by_value: dict[str, Templated] = {}
    for value, obj in parsed.items():
        out: dict[str, object] = {}
        bindings: dict[str, str] = {}
        for key, item in obj.items():
            if key in key_names:
                out[key] = placeholder_text(key_names[key])
                bindings[key_names[key]] = item if isinstance(item, str) else _canonical(item)
            else:
                out[key] = item
        by_value[value] = Templated(_canonical(out), bindings)
    return Detection("json_object", placeholders, by_value)


def _paths(column: str, values: Sequence[str], threshold: int) -> Detection | None:
    def split(value: str) -> tuple[str, list[str]] | None:
        prefix_match = _URL_PREFIX.match(value)
        if prefix_match:
            return prefix_match.group(0), value[prefix_match.end() :].split("/")
        if value.startswith("/"):
            return "", value.split("/")
        return None

    splits = {v: split(v) for v in values}
    path_values = [v for v, s in splits.items() if s is not None]
    if not values or len(path_values) < PATH_SHARE * len(values):
        return None

    position_values: dict[int, set[str]] = defaultdict(set)
    for value in path_values:
        _, segments = splits[value]  # type: ignore[misc]
        for i, segment in enumerate(segments):
            if segment:
                position_values[i].add(segment)
    limit = min(threshold, MAX_POSITION_THRESHOLD)
    placeholders: dict[str, Placeholder] = {}
    names: dict[int, str] = {}
    for i in sorted(position_values):
        seen = position_values[i]
        if len(seen) <= limit:
            continue
        if all(is_number(s) for s in seen):
            base, var_type = f"{column}_id", "number"
        elif all(is_uuid(s) for s in seen):
            base, var_type = f"{column}_uuid", "string"
        else:
            base, var_type = f"{column}_segment_{i}", "string"
        name = _unique(variable_name(base), placeholders, suffix=str(i))
        placeholders[name] = Placeholder(name, f"{column}[{i}]", var_type)
        names[i] = name

    by_value: dict[str, Templated] = {}
    fallback_name: str | None = None
    for value in values:
        parts = splits[value]
        if parts is None:
            if fallback_name is None:
                fallback_name = _unique(variable_name(column), placeholders)
                placeholders[fallback_name] = Placeholder(fallback_name, column, "string")
            by_value[value] = Templated(placeholder_text(fallback_name), {fallback_name: value})
            continue
        prefix, segments = parts
        bindings: dict[str, str] = {}
        out = []
        for i, segment in enumerate(segments):
            if i in names and segment:
                out.append(placeholder_text(names[i]))
                bindings[names[i]] = segment
            else:
                out.append(segment)
        by_value[value] = Templated(prefix + "/".join(out), bindings)
    return Detection("path", placeholders, by_value)


def _delimited(column: str, values: Sequence[str], threshold: int) -> Detection | None:
    tokens = {v: _DELIMITERS.split(v) for v in values}  # parts at even indexes, delimiters at odd
    if not values or any(len(t) < 3 for t in tokens.values()):
        return None
    position_values: dict[int, set[str]] = defaultdict(set)
    for parts in tokens.values():
        for i in range(0, len(parts), 2):
            position_values[i // 2].add(parts[i])
    limit = min(threshold, MAX_POSITION_THRESHOLD)
    varying = {i for i, seen in position_values.items() if len(seen) > limit}
    if not varying or varying == set(position_values):
        return None
    placeholders: dict[str, Placeholder] = {}
    names: dict[int, str] = {}
    for i in sorted(varying):
        seen = position_values[i]
        numeric = all(is_number(s) for s in seen if s)
        base = f"{column}_id" if numeric else f"{column}_part_{i}"
        name = _unique(variable_name(base), placeholders, suffix=str(i))
        placeholders[name] = Placeholder(name, f"{column}[{i}]", "number" if numeric else "string")
        names[i] = name
    by_value: dict[str, Templated] = {}
    for value, parts in tokens.items():
        bindings: dict[str, str] = {}
        out = list(parts)
        for j in range(0, len(parts), 2):
            position = j // 2
            if position in names and parts[j]:
                out[j] = placeholder_text(names[position])
                bindings[names[position]] = parts[j]
        by_value[value] = Templated("".join(out), bindings)
    templates = {t.template for t in by_value.values()}
    if len(templates) > max(threshold, 1):
        return None
    return Detection("delimited", placeholders, by_value)


def _canonical(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _unique(name: str, taken: dict[str, Placeholder], suffix: str = "") -> str:
    if name not in taken:
        return name
    candidate = f"{name}_{suffix}" if suffix else name
    n = 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    return candidate
