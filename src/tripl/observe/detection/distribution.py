"""Distribution drift: PSI of a field's value shares in each bucket against the preceding window.

psi is the contract's (and reference's) formula: sum over the union of values of
(cur - base) * ln(cur / base), shares of raw counts, 1e-4 standing in for a missing share.

On a few dozen events that number is mostly sampling noise: ten values and thirty events give a
PSI above 0.25 nine times in ten with nothing changed. So the band is judged on how far PSI rises
above what noise alone would reach: PSI of lightly smoothed shares (half an event added to every
value, so an unseen value is not infinitely surprising) minus the PSI that sampling noise exceeds
once in 10 000 buckets. Under no change, PSI / (1/n_cur + 1/n_base) is about chi-square with
(values - 1) degrees of freedom, which gives that allowance in closed form. With thousands of
events the allowance is negligible and the bands are the textbook ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from tripl.observe.detection.series import BucketPanel, FloatArray, TimeLike, epoch_seconds, to_datetime
from tripl.observe.detection.settings import AnomalySettings

Band = Literal["stable", "minor", "significant"]

MISSING_SHARE = 1e-4
MINOR_PSI = 0.10
SIGNIFICANT_PSI = 0.25
SMOOTHING_COUNT = 0.5
NOISE_QUANTILE_Z = 3.719  # standard normal quantile of 1 - 1e-4
DEFAULT_TOP_MOVERS = 5


@dataclass(frozen=True)
class DriftMover:
    """DistributionDriftTopMover of the contract."""

    value: str
    baseline_share: float
    current_share: float
    contribution: float


@dataclass(frozen=True)
class DistributionDrift:
    """One bucket's DistributionDriftPoint fields, plus the noise allowance the band was judged with."""

    bucket: datetime
    psi: float
    band: Band
    baseline_total: int
    current_total: int
    top_movers: list[DriftMover]
    noise_psi: float


def band_for(psi: float) -> Band:
    """The contract's bands: < 0.10 stable, < 0.25 minor, else significant."""
    if psi >= SIGNIFICANT_PSI:
        return "significant"
    return "minor" if psi >= MINOR_PSI else "stable"


def _chi2_quantile(dof: FloatArray) -> FloatArray:
    """Wilson-Hilferty approximation of the chi-square quantile at 1 - 1e-4 (good to a few %)."""
    k = np.maximum(dof, 1.0)
    return k * (1.0 - 2.0 / (9.0 * k) + NOISE_QUANTILE_Z * np.sqrt(2.0 / (9.0 * k))) ** 3


def _psi_terms(current: FloatArray, baseline: FloatArray, floor: float | None) -> FloatArray:
    """Per-value PSI contributions of (values, buckets) counts; `floor` replaces missing shares,
    otherwise every value seen on either side gets SMOOTHING_COUNT added."""
    if floor is None:
        seen = (current + baseline) > 0
        current = current + SMOOTHING_COUNT * seen
        baseline = baseline + SMOOTHING_COUNT * seen
    with np.errstate(divide="ignore", invalid="ignore"):
        cur = current / current.sum(axis=0)
        base = baseline / baseline.sum(axis=0)
    if floor is not None:
        cur, base = np.where(cur > 0, cur, floor), np.where(base > 0, base, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num((cur - base) * np.log(cur / base))  # values seen on neither side add 0


def detect_distribution_drift(
    panel: BucketPanel[str],
    settings: AnomalySettings | None = None,
    *,
    evaluate_from: TimeLike | None = None,
    top_movers: int = DEFAULT_TOP_MOVERS,
) -> list[DistributionDrift]:
    """PSI per bucket of one field (panel rows are its values) against the previous window.

    The baseline of bucket t is the summed counts of the `baseline_window_buckets` buckets before it,
    which must hold at least `min_history_buckets` buckets with data; buckets without events are
    skipped. `evaluate_from` limits the output to buckets from that time on.
    """
    settings = settings or AnomalySettings()
    window, min_history = settings.baseline_window_buckets, settings.effective_min_history
    counts = panel.counts
    values, n = counts.shape
    if values == 0 or n == 0:
        return []
    totals = counts.sum(axis=0)
    cumulative = np.concatenate([np.zeros((values, 1)), np.cumsum(counts, axis=1)], axis=1)
    index = np.arange(n)
    lo = np.maximum(index - window, 0)
    baseline = cumulative[:, index] - cumulative[:, lo]
    with_data = np.concatenate([[0], np.cumsum(totals > 0)])
    history = with_data[index] - with_data[lo]
    evaluated = (totals > 0) & (history >= min_history)
    if evaluate_from is not None:
        evaluated &= index >= -(-(epoch_seconds(evaluate_from) - panel.start) // panel.step)
    cols = np.flatnonzero(evaluated)
    if cols.size == 0:
        return []
    current, base = counts[:, cols], baseline[:, cols]
    contributions = _psi_terms(current, base, MISSING_SHARE)
    psi = contributions.sum(axis=0)
    cur_total, base_total = current.sum(axis=0), base.sum(axis=0)
    present = np.count_nonzero((current + base) > 0, axis=0)
    noise = (1.0 / cur_total + 1.0 / base_total) * _chi2_quantile(present - 1.0)
    excess = np.maximum(_psi_terms(current, base, None).sum(axis=0) - noise, 0.0)
    cur_share, base_share = current / cur_total, base / base_total
    order = np.argsort(-np.abs(contributions), axis=0, kind="stable")[:top_movers]
    out = []
    for j, col in enumerate(cols.tolist()):
        movers = [
            DriftMover(
                value=str(panel.keys[v]),
                baseline_share=float(base_share[v, j]),
                current_share=float(cur_share[v, j]),
                contribution=float(contributions[v, j]),
            )
            for v in order[:, j].tolist()
            if current[v, j] + base[v, j] > 0
        ]
        out.append(
            DistributionDrift(
                bucket=to_datetime(panel.start + panel.step * col),
                psi=float(psi[j]),
                band=band_for(float(excess[j])),
                baseline_total=int(base_total[j]),
                current_total=int(cur_total[j]),
                top_movers=movers,
                noise_psi=float(noise[j]),
            )
        )
    return out
