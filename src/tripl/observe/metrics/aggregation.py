"""From the rows a chunk's warehouse queries return to the series points collection stores (pure).

The warehouse already grouped the rows (per bucket and identity-column combination, or per
bucket, scope and value), so what happens here is proportional to those groups, not to events:
each group is named once (`Resolver` caches by its identity values), then its count lands on
the project total, its event type and its event. Rows are turned into arrays of numbers (named
group, bucket, value) and every sum is a sort-and-reduce in numpy, so Python does a few dictionary
lookups per row and nothing per (row, scope). Group rules can map several combinations to one
event, so the per-scope top-N of breakdowns is re-applied after the merge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tripl.observe.metrics.models import MetricScopeType, SeriesKind
from tripl.observe.metrics.versions import OTHER_VERSION, kept_versions
from tripl.observe.scans.naming import EventIdentity, render_value
from tripl.observe.warehouse.buckets import as_utc

NULL_VALUE = "(null)"  # a breakdown value that was NULL in the warehouse
OTHER_VALUE = "Other"  # label of the row folding values outside the top N
MAX_VERSION_LENGTH = 255
Ints = npt.NDArray[np.int64]


class Scope(NamedTuple):
    scope_type: MetricScopeType
    scope_ref: str
    event_type_id: uuid.UUID | None
    event_id: uuid.UUID | None


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
    """Per bucket totals (every row read vs rows matched to a plan event), what matched no event,
    and each matched event's newest bucket."""

    total: dict[datetime, int] = field(default_factory=dict)
    matched: dict[datetime, int] = field(default_factory=dict)
    unmatched: dict[str, Unmatched] = field(default_factory=dict)
    last_seen: dict[uuid.UUID, datetime] = field(default_factory=dict)
    rows_scanned: int = 0


class SeriesRef(NamedTuple):
    """What one stored series counts."""

    kind: SeriesKind
    scope: Scope
    column: str
    value: str
    is_other: bool


@dataclass
class ChunkPoints:
    """A chunk's series points as parallel arrays: point i counts `count[i]` for series
    `series[series_no[i]]` in bucket `buckets[bucket_no[i]]`; each (series, bucket) once."""

    series: list[SeriesRef]
    buckets: list[datetime]
    series_no: Ints
    bucket_no: Ints
    count: Ints

    def rows_of(self, kind: SeriesKind) -> int:
        kinds = np.array([ref.kind == kind for ref in self.series], dtype=bool)
        return int(kinds[self.series_no].sum()) if len(self.series) else 0


@dataclass(frozen=True)
class CountRows:
    """The bucketed counts query's result, one sequence per column (a list, or a numpy array as
    `ColumnarResult` allows): bucket, each identity column, the app version (if any), count."""

    bucket: Sequence[Any]
    identity: list[Sequence[Any]]
    version: Sequence[Any] | None
    count: Sequence[Any]


@dataclass(frozen=True)
class ValueRows:
    """One top-values query's result, by column. A breakdown's scope is the identity columns
    (credited to events, and to types for scan-level columns); a distribution field's is the event
    type column, if any (credited to the project total and, with `for_types`, to types)."""

    bucket: Sequence[Any]
    scope: list[Sequence[Any]]
    value: Sequence[Any]
    other: Sequence[Any]
    count: Sequence[Any]
    column: str
    top_n: int | None
    drift: bool
    for_types: bool
    for_all_events: bool = False  # breakdowns: every matched event, not only those that asked
    # A breakdown kept whole that also serves a distribution field: every row also counts for the
    # project total, folded to this many values (what the field's own query would have stored).
    total_top_n: int | None = None


class _Numbers(dict[Hashable, int]):
    """key -> its number, numbered in order of first sight."""

    def __missing__(self, key: Hashable) -> int:
        number = self[key] = len(self)
        return number


class _Buckets(dict[Any, int]):
    """Raw warehouse bucket value -> the number of its UTC time (converted once per raw value)."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers = _Numbers()

    def __missing__(self, raw: Any) -> int:
        when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        number = self[raw] = self.numbers[as_utc(when)]
        return number

    def times(self) -> list[datetime]:
        return list(self.numbers)  # type: ignore[arg-type]


def sorted_ranks(values: Sequence[Any]) -> Ints:
    """Each value's position in sorted order (times, texts)."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return ranks


def _ints(values: Iterable[Any], size: int) -> Ints:
    return np.fromiter(values, dtype=np.int64, count=size)


def _int_column(column: Sequence[Any]) -> Ints:
    if isinstance(column, np.ndarray):
        return column.astype(np.int64, copy=False)
    return _ints(map(int, column), len(column))


def _bool_column(column: Sequence[Any]) -> npt.NDArray[np.bool_]:
    if isinstance(column, np.ndarray):
        return column.astype(bool, copy=False)
    return np.fromiter(map(bool, column), dtype=bool, count=len(column))


def _listed(column: Sequence[Any]) -> list[Any]:
    if isinstance(column, list):
        return column
    return column.tolist() if isinstance(column, np.ndarray) else list(column)


def _row_keys(columns: list[Sequence[Any]], size: int) -> list[tuple[Any, ...]]:
    """Each row's values of `columns`, as a tuple."""
    return list(zip(*map(_listed, columns), strict=True)) if columns else [()] * size


def _plain(key: Any) -> bool:
    """Text or NULL, or a tuple of them: values that are their own rendering (`render_value`)."""
    return type(key) in _PLAIN or (type(key) is tuple and all(type(v) in _PLAIN for v in key))


def _numbered(keys: list[Any], render: Callable[[Any], Hashable]) -> tuple[list[Any], Ints]:
    """The distinct renderings of the keys (in number order), and each key's number among them.

    When every distinct key is plain, keys are numbered as they are (one dictionary lookup per
    row) and only the distinct ones rendered; otherwise every key is rendered first: 1, 1.0 and
    True are equal keys but render differently, and a JSON value may not hash.
    """
    rendered = _Numbers()
    numbers = _Numbers()
    try:
        raw = _ints(map(numbers.__getitem__, keys), len(keys))
        plain = all(map(_plain, numbers))
    except TypeError:
        plain = False
    if plain:
        of_key = np.array([rendered[render(key)] for key in numbers] or [0], dtype=np.int64)
        return list(rendered), of_key[raw]
    numbered = _ints((rendered[render(key)] for key in keys), len(keys))
    return list(rendered), numbered


# Keys up to this many times the number of rows are summed by counting into a dense array (no
# sort: ~15x faster); float64 sums are exact below 2**53.
_DENSE_KEYS_PER_ROW = 8
_EXACT_FLOAT_SUM = 2**53


def _group_sum(keys: Ints, counts: Ints) -> tuple[Ints, Ints]:
    """Distinct keys (ascending, all >= 0) and the sum of the counts of each."""
    if not len(keys):
        return keys, counts
    if int(keys.max()) < _DENSE_KEYS_PER_ROW * len(keys) + 1024 and int(counts.sum()) < _EXACT_FLOAT_SUM:
        distinct = np.flatnonzero(np.bincount(keys))
        return distinct, np.bincount(keys, weights=counts)[distinct].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(counts[order], starts)


def _spread(owner: Ints, targets: Sequence[tuple[int, ...]]) -> tuple[Ints, Ints]:
    """(row index, scope number) once for every scope the row's owner's count lands on."""
    width = max((len(t) for t in targets), default=0)
    if not width or not len(owner):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    table = np.full((len(targets), width), -1, dtype=np.int64)
    for number, scopes in enumerate(targets):
        table[number, : len(scopes)] = scopes
    scopes_of_rows = table[owner]
    rows, slots = np.nonzero(scopes_of_rows >= 0)
    return rows, scopes_of_rows[rows, slots]


class ChunkCounter:
    """Counts one chunk's query results into series points, in arrays.

    Rows are named once per distinct identity (the `Resolver`), then numbered: each row gets its
    named group's number, its bucket's and its value's, and every sum is a sort-and-reduce over
    those numbers. Python work per row is a few dictionary lookups.
    """

    def __init__(self, resolver: Resolver, scan_config_id: uuid.UUID) -> None:
        self.resolver = resolver
        self.scopes = _ScopeIndex(total_scope(scan_config_id))
        self.buckets = _Buckets()
        self._parts: list[tuple[list[SeriesRef], Ints, Ints, Ints]] = []

    def count_events(self, data: CountRows, keep_releases: int) -> ChunkCounts:
        """Counts per scope and bucket (the total, types, events), app versions, and the totals."""
        count = _int_column(data.count)
        named, owner = self._name(_row_keys(data.identity, len(count)))
        bucket = self._bucket_numbers(data.bucket)
        targets = [self.scopes.of(n) for n in named]
        row, scope = _spread(owner, targets)
        self._add(SeriesKind.counts, "", [("", False)], scope, np.zeros_like(scope), bucket[row], count[row])
        if data.version is not None:
            texts, version = _numbered(_listed(data.version), _version_text)
            self._add_versions(texts, version, owner, targets, bucket, count, keep_releases)
        return self._totals(named, owner, bucket, count)

    def count_values(self, data: ValueRows) -> None:
        """A breakdown's or distribution field's value counts, with the top N re-applied per scope."""
        count = _int_column(data.count)
        scopes = _row_keys(data.scope, len(count))
        if data.drift:
            type_keys, owner = _numbered(scopes, lambda key: tuple(render_value(v) for v in key))
            targets = [self._drift_scopes(key, data.for_types) for key in type_keys]
        else:
            named, owner = self._name(scopes)
            wanted = self.resolver.plan.own_breakdowns.get(data.column, frozenset())
            targets = [self._breakdown_scopes(n, data, wanted) for n in named]
        texts, value = _numbered(_listed(data.value), value_label)
        labels = [*((text, False) for text in texts), (OTHER_VALUE, True)]
        other = len(labels) - 1
        label = np.where(_bool_column(data.other), other, value)
        bucket = self._bucket_numbers(data.bucket)
        if data.total_top_n is not None:
            total = np.zeros(len(count), dtype=np.int64)
            folded = _fold_beyond_top(total, label, count, labels, data.total_top_n, other)
            self._add(SeriesKind.breakdown, data.column, labels, total, folded, bucket, count)
        row, scope = _spread(owner, targets)
        label, bucket, count = label[row], bucket[row], count[row]
        if data.top_n is not None:
            label = _fold_beyond_top(scope, label, count, labels, data.top_n, other)
        self._add(SeriesKind.breakdown, data.column, labels, scope, label, bucket, count)

    def points(self) -> ChunkPoints:
        series: list[SeriesRef] = []
        numbers, buckets, counts = [], [], []
        for refs, local, bucket, count in self._parts:
            numbers.append(local + len(series))
            series += refs
            buckets.append(bucket)
            counts.append(count)
        empty = np.empty(0, dtype=np.int64)
        return ChunkPoints(
            series=series,
            buckets=self.buckets.times(),
            series_no=np.concatenate(numbers) if numbers else empty,
            bucket_no=np.concatenate(buckets) if buckets else empty,
            count=np.concatenate(counts) if counts else empty,
        )

    # --- parts -----------------------------------------------------------------------------------

    def _name(self, identities: list[tuple[Any, ...]]) -> tuple[list[Named], Ints]:
        """The distinct named groups of the rows (equal answers are one group), and each row's
        group number."""
        return _numbered(identities, self.resolver.lookup)

    def _bucket_numbers(self, column: Sequence[Any]) -> Ints:
        if isinstance(column, np.ndarray):  # datetime64: each distinct time converted once
            times, inverse = np.unique(column, return_inverse=True)
            numbers = np.array([self.buckets[t] for t in times.tolist()] or [0], dtype=np.int64)
            return numbers[inverse.reshape(-1)]
        return _ints(map(self.buckets.__getitem__, column), len(column))

    def _bucket_span(self) -> int:
        # Every bucket number of the chunk is known once its queries' rows are numbered.
        return max(len(self.buckets.numbers), 1)

    def _add(
        self,
        kind: SeriesKind,
        column: str,
        labels: list[tuple[str, bool]],
        scope: Ints,
        label: Ints,
        bucket: Ints,
        count: Ints,
    ) -> None:
        """Sum the counts per (scope, label, bucket) into points of one series per (scope, label);
        `labels` gives each label number's (value, is_other)."""
        span, width = self._bucket_span(), len(labels)
        keys, sums = _group_sum((scope * width + label) * span + bucket, count)
        series_key, bucket = np.divmod(keys, span)
        series, local = np.unique(series_key, return_inverse=True)
        refs = [
            SeriesRef(kind, self.scopes.listed[s], column, *labels[v])
            for s, v in (divmod(int(k), width) for k in series)
        ]
        self._parts.append((refs, local.astype(np.int64), bucket, sums))

    def _add_versions(
        self,
        texts: list[str | None],
        version: Ints,
        owner: Ints,
        targets: list[tuple[int, ...]],
        bucket: Ints,
        count: Ints,
        keep: int,
    ) -> None:
        """Keep the `keep` newest versions seen in the chunk; every older one folds into Other."""
        kept = kept_versions((t for t in texts if t), keep)
        labels = _Numbers()
        other = labels[(OTHER_VERSION, True)]
        folded = np.array(
            [-1 if not t else labels[(t, False)] if t in kept else other for t in texts] or [-1],
            dtype=np.int64,
        )[version]
        has = np.flatnonzero(folded >= 0)
        row, scope = _spread(owner[has], targets)
        row = has[row]
        listed: list[tuple[str, bool]] = list(labels)  # type: ignore[arg-type]
        self._add(SeriesKind.app_version, "", listed, scope, folded[row], bucket[row], count[row])

    def _totals(self, named: list[Named], owner: Ints, bucket: Ints, count: Ints) -> ChunkCounts:
        out = ChunkCounts(rows_scanned=int(count.sum()))
        times = self.buckets.times()
        ranks, by_rank = sorted_ranks(times), sorted(times)
        keys, sums = _group_sum(bucket, count)
        out.total = {times[b]: s for b, s in zip(keys.tolist(), sums.tolist(), strict=True)}
        # An event is only counted with its type.
        event_of = np.array(
            [self.scopes.number(event_scope(n.event_id, n.event_type_id))
             if n.event_id is not None and n.event_type_id is not None else -1 for n in named] or [-1],
            dtype=np.int64,
        )[owner]  # fmt: skip
        matched = event_of >= 0
        keys, sums = _group_sum(bucket[matched], count[matched])
        out.matched = {times[b]: s for b, s in zip(keys.tolist(), sums.tolist(), strict=True)}
        seen = matched & (count > 0)
        for scope, rank in _group_max(event_of[seen], ranks[bucket[seen]]):
            event_id = self.scopes.listed[scope].event_id
            assert event_id is not None
            out.last_seen[event_id] = by_rank[rank]
        unnamed = np.flatnonzero(~matched)
        if len(unnamed):
            out.unmatched = self._unmatched(
                named, owner[unnamed], ranks[bucket[unnamed]], count[unnamed], by_rank
            )
        return out

    def _unmatched(
        self, named: list[Named], owner: Ints, rank: Ints, count: Ints, by_rank: list[datetime]
    ) -> dict[str, Unmatched]:
        """Per event name that matched no plan event: the type of its first row, its count, and
        its first and last bucket."""
        groups, first_row, inverse = np.unique(owner, return_index=True, return_inverse=True)
        sums = np.zeros(len(groups), dtype=np.int64)
        np.add.at(sums, inverse, count)
        lowest = np.full(len(groups), np.iinfo(np.int64).max, dtype=np.int64)
        highest = np.full(len(groups), -1, dtype=np.int64)
        np.minimum.at(lowest, inverse, rank)
        np.maximum.at(highest, inverse, rank)
        out: dict[str, Unmatched] = {}
        for i in np.argsort(first_row, kind="stable").tolist():
            group = named[int(groups[i])]
            if group.source_name is None:
                continue
            first, last = by_rank[int(lowest[i])], by_rank[int(highest[i])]
            seen = out.get(group.source_name)
            if seen is None:
                out[group.source_name] = Unmatched(group.event_type_id, int(sums[i]), first, last)
            else:
                seen.count += int(sums[i])
                seen.first_bucket = min(seen.first_bucket, first)
                seen.last_bucket = max(seen.last_bucket, last)
        return out

    def _breakdown_scopes(
        self, named: Named, data: ValueRows, wanted: frozenset[uuid.UUID]
    ) -> tuple[int, ...]:
        if named.event_type_id is None:
            return ()
        scopes: tuple[int, ...] = ()
        if data.for_types:
            scopes += (self.scopes.number(type_scope(named.event_type_id)),)
        if named.event_id is not None and (data.for_all_events or named.event_id in wanted):
            scopes += (self.scopes.number(event_scope(named.event_id, named.event_type_id)),)
        return scopes

    def _drift_scopes(self, values: tuple[Any, ...], for_types: bool) -> tuple[int, ...]:
        if not for_types:
            return (0,)
        # The scope is the event type column's value, or nothing when the scan has no such column.
        type_key = render_value(values[0]) if values else None
        type_id = self.resolver.plan.type_for(type_key, bool(values))
        return (0,) if type_id is None else (0, self.scopes.number(type_scope(type_id)))


def _group_max(keys: Ints, values: Ints) -> Iterable[tuple[int, int]]:
    """(key, its largest value) per distinct key."""
    if not len(keys):
        return []
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    last = np.flatnonzero(np.concatenate((keys[1:] != keys[:-1], [True])))
    return zip(keys[last].tolist(), values[last].tolist(), strict=True)


def _fold_beyond_top(
    scope: Ints, label: Ints, count: Ints, labels: list[tuple[str, bool]], top_n: int, other: int
) -> Ints:
    """Re-apply the top N per scope after merging (group rules can map several combinations to one
    event): values outside the N largest totals over the chunk (ties by value) become Other."""
    real = label != other
    keys, totals = _group_sum(scope[real] * len(labels) + label[real], count[real])
    if not len(keys):
        return label
    owner, value = np.divmod(keys, len(labels))
    text_rank = sorted_ranks([text for text, _ in labels])
    order = np.lexsort((text_rank[value], -totals, owner))
    owner_sorted = owner[order]
    starts = np.flatnonzero(np.concatenate(([True], owner_sorted[1:] != owner_sorted[:-1])))
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
    kept = np.zeros(int(scope.max()) * len(labels) + len(labels), dtype=bool)
    kept[keys[order][position < top_n]] = True
    return np.where(real & kept[scope * len(labels) + label], label, other)


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


def _version_text(version: Any) -> str | None:
    """An app version's text (at most MAX_VERSION_LENGTH characters); None when empty."""
    text = render_value(version)
    return text[:MAX_VERSION_LENGTH] if text else None


def value_label(value: Any) -> str:
    """A breakdown value's label (NULL becomes `NULL_VALUE`)."""
    text = render_value(value)
    return NULL_VALUE if text is None else text
