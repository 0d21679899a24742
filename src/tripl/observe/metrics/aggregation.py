"""From the rows a chunk's warehouse queries return to the metric rows collection stores (pure).

The warehouse already grouped the rows (per bucket and identity-column combination, or per
bucket, scope and value), so what happens here is proportional to those groups, not to events:
each group is named once (`Resolver` caches by its identity values), then its count lands on
the project total, its event type and its event. Group rules can map several combinations to one
event, so the per-scope top-N of breakdowns is re-applied after the merge.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from tripl.observe.metrics.models import MetricScopeType
from tripl.observe.metrics.versions import OTHER_VERSION, kept_versions
from tripl.observe.scans.naming import EventIdentity, render_value

NULL_VALUE = "(null)"  # a breakdown value that was NULL in the warehouse
OTHER_VALUE = "Other"  # label of the row folding values outside the top N
MAX_VERSION_LENGTH = 255


class Scope(NamedTuple):
    scope_type: MetricScopeType
    scope_ref: str
    event_type_id: uuid.UUID | None
    event_id: uuid.UUID | None

    def __hash__(self) -> int:
        # scope_ref alone tells scopes apart (a scan, type or event id) and a str caches its hash;
        # hashing the uuids would cost two Python-level calls per counter update.
        return hash(self.scope_ref)


def total_scope(scan_config_id: uuid.UUID) -> Scope:
    return Scope(MetricScopeType.project_total, str(scan_config_id), None, None)


def type_scope(event_type_id: uuid.UUID) -> Scope:
    return Scope(MetricScopeType.event_type, str(event_type_id), event_type_id, None)


def event_scope(event_id: uuid.UUID, event_type_id: uuid.UUID) -> Scope:
    return Scope(MetricScopeType.event, str(event_id), event_type_id, event_id)


@dataclass(frozen=True)
class PlanIndex:
    """The main-branch plan as collection needs it, loaded in one query per table."""

    events: Mapping[tuple[uuid.UUID, str], uuid.UUID]  # (event type, source_name) -> event
    events_by_name: Mapping[str, Sequence[tuple[uuid.UUID, uuid.UUID]]]  # source_name -> (event, type)
    types_by_name: Mapping[str, uuid.UUID]
    default_type_id: uuid.UUID | None  # the config's event_type_id (no event_type_column)
    own_breakdowns: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)  # column -> events

    def type_for(self, type_key: str | None, has_type_column: bool) -> uuid.UUID | None:
        if not has_type_column:
            return self.default_type_id
        return self.types_by_name.get(type_key) if type_key is not None else None

    def event_for(self, type_id: uuid.UUID | None, source_name: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        """(event id, its type) by type and source_name; by source_name alone when it is unambiguous."""
        if type_id is not None:
            event_id = self.events.get((type_id, source_name))
            if event_id is not None:
                return event_id, type_id
        candidates = self.events_by_name.get(source_name, ())
        return candidates[0] if len(candidates) == 1 else None


@dataclass(frozen=True)
class Named:
    """What one identity-value combination resolved to."""

    source_name: str | None
    event_type_id: uuid.UUID | None
    event_id: uuid.UUID | None


def identity_keys(identity: EventIdentity) -> list[str]:
    """The columns a collection query groups by to name rows: the identity's group columns plus
    any name-format key they leave out (a real column called `event_name` shares its name with
    the group-rule pseudo-field, and `group_columns` skips those names)."""
    keys = list(identity.group_columns)
    keys += [k for k in identity.format_keys if k not in keys]
    return keys


_PLAIN = frozenset({str, type(None)})  # values that are their own rendering (render_value)


class Resolver:
    """Names identity-value combinations; one per run, so each distinct combination is resolved once."""

    def __init__(self, identity: EventIdentity, plan: PlanIndex) -> None:
        self.identity = identity
        self.plan = plan
        self.keys = identity_keys(identity)
        self._cache: dict[tuple[Any, ...], Named] = {}
        # The same answers keyed by the raw tuple, only for tuples of text and NULL: such a key
        # cannot equal a tuple holding anything else, so hot loops look rows up here first with no
        # type check (a tuple holding an unhashable JSON value raises TypeError on lookup).
        self.by_raw: dict[tuple[Any, ...], Named] = {}

    def lookup(self, values: tuple[Any, ...]) -> Named:
        """`name(values)` for a row's identity tuple, through the raw-tuple index when it can."""
        try:
            named = self.by_raw.get(values)
        except TypeError:  # an unhashable JSON value
            named = None
        return named if named is not None else self.name(values)

    def name(self, values: Sequence[Any]) -> Named:
        """`values` are the raw values of `self.keys`, in that order."""
        key = tuple(values)
        plain = all(type(v) in _PLAIN for v in key)
        if not plain:
            # Text and NULL render as themselves; anything else is rendered first (1 and True hash
            # alike but render differently, and a JSON value may not hash at all).
            key = tuple(render_value(v) for v in key)
        named = self._cache.get(key)
        if named is None:
            row = dict(zip(self.keys, values, strict=True))
            resolution = self.identity.resolve(row)
            has_type_column = self.identity.event_type_column is not None
            type_id = self.plan.type_for(resolution.type_key, has_type_column)
            match = self.plan.event_for(type_id, resolution.source_name) if resolution.source_name else None
            if match is not None:
                named = Named(resolution.source_name, match[1], match[0])
            else:
                named = Named(resolution.source_name, type_id, None)
            self._cache[key] = named
        if plain:
            self.by_raw[key] = named
        return named


@dataclass
class Unmatched:
    event_type_id: uuid.UUID | None
    count: int
    first_bucket: datetime
    last_bucket: datetime


@dataclass
class ChunkCounts:
    metrics: dict[tuple[Scope, datetime], int] = field(default_factory=dict)
    # By scope number (an index into `scopes`) until `fold_versions`: an int hashes in C, a Scope not.
    versions: dict[tuple[int, datetime, str], int] = field(default_factory=dict)
    scopes: list[Scope] = field(default_factory=list)
    total: Counter[datetime] = field(default_factory=Counter)
    matched: Counter[datetime] = field(default_factory=Counter)
    unmatched: dict[str, Unmatched] = field(default_factory=dict)
    last_seen: dict[uuid.UUID, datetime] = field(default_factory=dict)
    rows_scanned: int = 0


def count_rows(
    rows: Iterable[tuple[datetime, tuple[Any, ...], Any, int]],
    resolver: Resolver,
    scan_config_id: uuid.UUID,
) -> ChunkCounts:
    """Rows are (bucket, identity values, app version or None, count) from the bucketed query."""
    out = ChunkCounts()
    scopes = _ScopeIndex(total_scope(scan_config_id))
    targets: dict[int, tuple[int, ...]] = {}  # by id() of a Named the resolver keeps alive
    version_texts: dict[Any, str | None] = {}
    # Keyed by scope number while counting: int and datetime hash in C, a Scope's hash does not.
    metrics: dict[tuple[int, datetime], int] = {}
    versions: dict[tuple[int, datetime, str], int] = {}
    lookup = resolver.lookup
    for bucket, values, version, count in rows:
        named = lookup(values)
        target = targets.get(id(named))
        if target is None:
            target = targets[id(named)] = scopes.of(named)
        out.total[bucket] += count
        out.rows_scanned += count
        event_id = named.event_id
        if event_id is not None and len(target) == 3:  # an event is only counted with its type
            out.matched[bucket] += count
            newest = out.last_seen.get(event_id)
            if count and (newest is None or bucket > newest):
                out.last_seen[event_id] = bucket
        elif named.source_name is not None:
            seen = out.unmatched.get(named.source_name)
            if seen is None:
                out.unmatched[named.source_name] = Unmatched(named.event_type_id, count, bucket, bucket)
            else:
                seen.count += count
                seen.first_bucket = min(seen.first_bucket, bucket)
                seen.last_bucket = max(seen.last_bucket, bucket)
        version_text = _version_text(version_texts, version)
        for scope in target:
            key = (scope, bucket)
            metrics[key] = metrics.get(key, 0) + count
            if version_text:
                version_key = (scope, bucket, version_text)
                versions[version_key] = versions.get(version_key, 0) + count
    listed = out.scopes = scopes.listed
    out.metrics = {(listed[scope], bucket): count for (scope, bucket), count in metrics.items()}
    out.versions = versions
    return out


class _ScopeIndex:
    """Numbers the scopes of one chunk; `of` gives the scopes a named group's count lands on."""

    def __init__(self, total: Scope) -> None:
        self.listed: list[Scope] = [total]
        self._numbers: dict[str, int] = {total.scope_ref: 0}

    def number(self, scope: Scope) -> int:
        number = self._numbers.get(scope.scope_ref)
        if number is None:
            number = self._numbers[scope.scope_ref] = len(self.listed)
            self.listed.append(scope)
        return number

    def of(self, named: Named) -> tuple[int, ...]:
        """The total, the group's type and its event (when known)."""
        if named.event_type_id is None:
            return (0,)
        by_type = self.number(type_scope(named.event_type_id))
        if named.event_id is None:
            return (0, by_type)
        return (0, by_type, self.number(event_scope(named.event_id, named.event_type_id)))


def _version_text(cache: dict[Any, str | None], version: Any) -> str | None:
    if type(version) not in _PLAIN:
        text = render_value(version)  # rare; keyed by value, True and 1 would share an entry
        return text[:MAX_VERSION_LENGTH] if text else None
    if version not in cache:
        text = render_value(version)
        cache[version] = text[:MAX_VERSION_LENGTH] if text else None
    return cache[version]


def fold_versions(counts: ChunkCounts, keep: int) -> dict[tuple[Scope, datetime, str, bool], int]:
    """Keep the `keep` newest versions seen in the chunk; sum every older one into one Other row."""
    kept = kept_versions({version for _, _, version in counts.versions}, keep)
    folded: dict[tuple[int, datetime, str, bool], int] = {}
    for (scope, bucket, version), count in counts.versions.items():
        if version in kept:
            folded[(scope, bucket, version, False)] = count  # (scope, bucket, version) is unique
        else:
            other = (scope, bucket, OTHER_VERSION, True)
            folded[other] = folded.get(other, 0) + count
    listed = counts.scopes
    return {(listed[scope], bucket, version, o): n for (scope, bucket, version, o), n in folded.items()}


BreakdownKey = tuple[Scope, str, datetime, str, bool]  # scope, column, bucket, value, is_other


def value_label(value: Any, is_other: bool) -> str:
    if is_other:
        return OTHER_VALUE
    text = render_value(value)
    return NULL_VALUE if text is None else text


def count_breakdown(
    rows: Iterable[tuple[datetime, tuple[Any, ...], Any, bool, int]],
    resolver: Resolver,
    column: str,
    *,
    for_types: bool,
    for_all_events: bool,
) -> Counter[BreakdownKey]:
    """Rows of a top-values query scoped by the identity columns, credited to events (every matched
    event when the column is scan-level, else only the events that asked for it) and, for
    scan-level columns, to their event types."""
    out: Counter[BreakdownKey] = Counter()
    wanted = resolver.plan.own_breakdowns.get(column, frozenset())
    scopes_of: dict[int, tuple[Scope, ...]] = {}  # by id() of a Named the resolver keeps alive
    labels: dict[Any, str] = {}
    lookup = resolver.lookup
    for bucket, values, value, is_other, count in rows:
        named = lookup(values)
        scopes = scopes_of.get(id(named))
        if scopes is None:
            scopes = ()
            if named.event_type_id is not None:
                if for_types:
                    scopes += (type_scope(named.event_type_id),)
                if named.event_id is not None and (for_all_events or named.event_id in wanted):
                    scopes += (event_scope(named.event_id, named.event_type_id),)
            scopes_of[id(named)] = scopes
        if not scopes:
            continue
        label = OTHER_VALUE if is_other else _label(labels, value)
        for scope in scopes:
            key = (scope, column, bucket, label, is_other)
            out[key] = out.get(key, 0) + count
    return out


def _label(cache: dict[Any, str], value: Any) -> str:
    if type(value) not in _PLAIN:
        return value_label(value, False)  # rare; keyed by value, True and 1 would share an entry
    label = cache.get(value)
    if label is None:
        label = cache[value] = value_label(value, False)
    return label


def count_distribution(
    rows: Iterable[tuple[datetime, Sequence[Any], Any, bool, int]],
    plan: PlanIndex,
    column: str,
    scan_config_id: uuid.UUID,
    *,
    has_type_column: bool,
    for_types: bool,
) -> Counter[BreakdownKey]:
    """Rows of a top-values query scoped by the event type column (or unscoped): value counts at
    project level and, unless `for_types` is off, per event type."""
    out: Counter[BreakdownKey] = Counter()
    total = total_scope(scan_config_id)
    labels: dict[Any, str] = {}
    types: dict[str | None, Scope | None] = {}
    for bucket, values, value, is_other, count in rows:
        label = OTHER_VALUE if is_other else _label(labels, value)
        out[(total, column, bucket, label, is_other)] += count
        if not for_types:
            continue
        type_key = render_value(values[0]) if values else None
        if type_key in types:
            scope = types[type_key]
        else:
            type_id = plan.type_for(type_key, has_type_column)
            scope = types[type_key] = type_scope(type_id) if type_id is not None else None
        if scope is not None:
            out[(scope, column, bucket, label, is_other)] += count
    return out


def refold_top(counts: Counter[BreakdownKey], top_n: int | None) -> Counter[BreakdownKey]:
    """Re-apply the top-N per (scope, column) after merging: values outside the N largest totals
    over the chunk (ties by value) fold into the Other row."""
    if top_n is None:
        return counts
    totals: dict[tuple[Scope, str], Counter[str]] = defaultdict(Counter)
    for (scope, column, _, value, is_other), count in counts.items():
        if not is_other:
            totals[(scope, column)][value] += count
    kept = {
        key: {v for v, _ in sorted(values.items(), key=lambda item: (-item[1], item[0]))[:top_n]}
        for key, values in totals.items()
    }
    out: Counter[BreakdownKey] = Counter()
    for (scope, column, bucket, value, is_other), count in counts.items():
        if is_other or value not in kept[(scope, column)]:
            out[(scope, column, bucket, OTHER_VALUE, True)] += count
        else:
            out[(scope, column, bucket, value, False)] += count
    return out
