"""App-version ordering: which releases are newest, and which fold into "Other"."""

from __future__ import annotations

from collections.abc import Iterable

from tripl.observe.detection.releases import version_key

OTHER_VERSION = "Other"

ReleaseKey = tuple[int, tuple[int, ...], int, str]


def release_order_key(version: str) -> ReleaseKey:
    """Ascending sort key, SemVer-like: numeric dotted parts compare as numbers (1.10 > 1.9), a
    prerelease sorts before its release (2.0.0-beta < 2.0.0), strings without a leading number
    sort before every version (alphabetically among themselves)."""
    key = version_key(version)
    if key is None:
        return (0, (), 0, version)
    core, prerelease = key
    return (1, core, 0 if prerelease else 1, version)


def newest_first(versions: Iterable[str]) -> list[str]:
    return sorted(set(versions), key=release_order_key, reverse=True)


def kept_versions(versions: Iterable[str], keep: int) -> set[str]:
    """The `keep` newest versions; every other version folds into the Other row."""
    return set(newest_first(versions)[: max(keep, 0)])
