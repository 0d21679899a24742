"""Release regressions from app-version series."""

from __future__ import annotations

import numpy as np
import pytest

from tripl.observe.detection import AnomalySettings, VersionCount, compare_releases, version_key

from .synth import at

N = 28 * 24
OLD_MIX = {"home_view": 0.5, "checkout": 0.1, "search": 0.3, "onboarding": 0.1}
TYPE_OF = {"home_view": "screen", "search": "screen", "onboarding": "screen", "checkout": "purchase"}


def _rows(versions: dict[str, tuple[np.ndarray, dict[str, float]]]) -> list[VersionCount]:
    """Per-hour counts for each version from its traffic curve and its event mix."""
    rows = []
    for version, (traffic, mix) in versions.items():
        for i in np.flatnonzero(traffic):
            by_type: dict[str, float] = {}
            for event, share in mix.items():
                count = round(traffic[i] * share)
                if count:
                    rows.append(VersionCount("event", event, version, at(int(i)), count))
                    by_type[TYPE_OF[event]] = by_type.get(TYPE_OF[event], 0) + count
            rows += [VersionCount("event_type", t, version, at(int(i)), c) for t, c in by_type.items()]
    return rows


def _rollout(start_day: int, final_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Hourly traffic of the old and the new release; the new one ramps up linearly from start_day."""
    total = np.full(N, 1000.0)
    ramp = np.clip((np.arange(N) - start_day * 24) / ((28 - start_day) * 24), 0, 1) * final_share
    return total * (1 - ramp), total * ramp


def test_missing_events_and_volume_drops_of_the_newest_release():
    old, new = _rollout(18, 0.6)
    new_mix = {"home_view": 0.5, "search": 0.3 * 0.25, "onboarding": 0.1}  # checkout gone, search down
    result = compare_releases(_rows({"5.0.0": (old, OLD_MIX), "5.1.0": (new, new_mix)}), "1h")
    assert (result.latest_version, result.previous_version) == ("5.1.0", "5.0.0")
    found = {(r.scope_type, r.scope_ref, r.kind) for r in result.items}
    assert found == {
        ("event", "checkout", "missing"),
        ("event_type", "purchase", "missing"),
        ("event", "search", "volume_drop"),
    }
    search = next(r for r in result.items if r.scope_ref == "search")
    total_new = sum(
        r.count
        for r in _rows({"5.1.0": (new, new_mix)})
        if r.scope_type == "event_type" and r.bucket >= search.window_from
    )
    assert search.expected_count == pytest.approx(0.3 * total_new, rel=0.01)
    assert search.ratio == pytest.approx(search.observed_count / search.expected_count)
    assert search.share_prev == pytest.approx(0.3, rel=0.01) and search.version == "5.1.0"
    assert 0.05 < result.release_share < 0.6 and result.held_back == []
    assert result.items[0].kind == "missing"  # missing first: the most urgent


def test_a_young_rollout_with_a_different_event_mix_holds_volume_drops_but_not_missing_events():
    old, new = _rollout(25, 0.25)
    # Early adopters are mostly fresh installs going through onboarding.
    new_mix = {"home_view": 0.2, "search": 0.3 * 0.25, "onboarding": 0.7}
    result = compare_releases(_rows({"5.0.0": (old, OLD_MIX), "5.1.0": (new, new_mix)}), "1h")
    assert "event" in result.held_back
    assert {(r.scope_ref, r.kind) for r in result.items if r.scope_type == "event"} == {
        ("checkout", "missing")
    }


def test_a_healthy_release_reports_nothing():
    old, new = _rollout(15, 0.7)
    result = compare_releases(_rows({"5.0.0": (old, OLD_MIX), "5.1.0": (new, OLD_MIX)}), "1h")
    assert result.latest_version == "5.1.0" and result.items == []


def test_prereleases_other_and_tiny_releases_are_never_compared():
    old, new = _rollout(18, 0.5)
    _, tiny = _rollout(20, 0.03)
    broken = {"home_view": 0.5}
    rows = _rows(
        {
            "5.0.0": (old - tiny, OLD_MIX),
            "5.2.0-beta.1": (new * 0.5, broken),
            "Other": (new * 0.5, broken),
            "5.3.0": (tiny, broken),
        }
    )
    rows = [
        VersionCount(r.scope_type, r.scope_ref, r.version, r.bucket, r.count, r.version == "Other")
        for r in rows
    ]
    result = compare_releases(rows, "1h")
    assert result.latest_version == "5.0.0" and result.previous_version is None and result.items == []
    info = {r.version: r for r in result.releases}
    assert info["5.2.0-beta.1"].is_prerelease and not info["5.2.0-beta.1"].is_active
    assert not info["Other"].is_active and not info["5.3.0"].is_active


def test_versions_order_by_semver_not_by_text():
    assert version_key("5.10.0") > version_key("5.9.3")
    assert version_key("v2.0") == ((2, 0, 0, 0), False)
    assert version_key("3.1.0-rc.2") == ((3, 1, 0, 0), True)
    assert version_key("3.1.0 (4512)") == ((3, 1, 0, 0), False)
    assert version_key("nightly", prerelease_pattern="nightly") is None
    assert version_key("4.0.0-internal", prerelease_pattern=r"internal")[1]


def test_sigma_from_settings_decides_borderline_drops():
    old, new = _rollout(26, 0.08)
    new_mix = {**OLD_MIX, "checkout": 0.1 * 0.45}
    rows = _rows({"5.0.0": (old, OLD_MIX), "5.1.0": (new, new_mix)})
    strict = compare_releases(rows, "1h", AnomalySettings(sigma_threshold=10.0))
    loose = compare_releases(rows, "1h", AnomalySettings(sigma_threshold=2.0))
    assert [r.kind for r in loose.items if r.scope_ref == "checkout"] == ["volume_drop"]
    assert [r for r in strict.items if r.scope_ref == "checkout"] == []
