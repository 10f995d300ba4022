"""Unsupervised change statistics of two dates: IR-MAD and change vector analysis (CVA).

Both work on a ``(2p, y, x)`` stack (the ``p`` bands of the earlier date, then the ``p``
bands of the later one) of any size. Their global statistics (means, the covariance matrix
of the ``2p`` bands) are accumulated chunk by chunk with a dask tree reduction: each chunk
gives a few hundred numbers (weight sum, weighted sums, weighted cross products), so memory
follows the chunk, never the image, and one iteration reads each image once.

IR-MAD (Nielsen, "The regularized iteratively reweighted MAD method for change detection in
multi- and hyperspectral data", IEEE TIP 16(2), 2007): canonical correlation analysis of the
two dates gives pairs of linear combinations ``U = aᵀx``, ``V = bᵀy`` with correlations
``ρ₁ ≤ … ≤ ρ_p``; the MAD variates ``Mᵢ = Uᵢ − Vᵢ`` have variance ``2(1 − ρᵢ)`` and are
uncorrelated, so for unchanged pixels ``Z = Σ Mᵢ² / σᵢ²`` is about chi-square with ``p``
degrees of freedom. Each iteration weights every pixel by its no-change probability
``P(χ²_p > Z)`` and redoes the analysis, so changed pixels stop spoiling the statistics.
The MAD transform is invariant to linear scalings of the bands (different gains, sun angle,
atmosphere) which is why it suits two dates of uncalibrated imagery. Those weights also
shrink the variances ``2(1 − ρᵢ)`` below the spread of the unchanged pixels, so after the
iterations :func:`calibrate` re-estimates each spread robustly (one more pass) before ``Z``
is compared with a chi-square quantile.

CVA: the length of the difference vector after standardising each band's difference
(``(dᵢ − mean dᵢ) / std dᵢ``), which removes a global brightness shift between dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import dask.array as da
import numpy as np
import xarray as xr
from scipy.stats import chi2

from terralab.ai.chunk_stats import reduce_chunks

__all__ = ["CvaFit", "IrmadFit", "WeightedMoments", "as_stack", "box_mean", "calibrate",
           "cva_fit", "irmad_fit", "weighted_moments"]

_RIDGE = 1e-6  # regularisation of the covariance matrices, relative to their mean variance
_MIN_VARIANCE = 1e-6  # floor of a MAD variance (identical images give 0)


@dataclass(frozen=True)
class WeightedMoments:
    """Weighted first and second moments of the valid pixels of a stack.

    Attributes:
        count: the valid pixels (no NaN in any band).
        weight: the sum of their weights.
        mean: the weighted mean of each band.
        covariance: the weighted covariance matrix of the bands.
    """

    count: int
    weight: float
    mean: np.ndarray
    covariance: np.ndarray


@dataclass(frozen=True)
class IrmadFit:
    """A fitted MAD transform.

    Attributes:
        bands: ``p``, the bands per date (the chi-square degrees of freedom).
        mean: the weighted means of the ``2p`` bands.
        a: ``(p, p)``: column ``i`` gives ``Uᵢ = aᵢᵀ(x − mean_x)``.
        b: ``(p, p)``: column ``i`` gives ``Vᵢ = bᵢᵀ(y − mean_y)``.
        rho: the canonical correlations, ascending.
        variance: the no-change variances of the MAD variates used by :meth:`chi2`: the
            weighted ``2(1 − ρᵢ)``, or after :func:`calibrate` a robust estimate.
        iterations: the iterations run.
        converged: whether the correlations stopped changing before the limit.
        count: the valid pixels.
        history: the canonical correlations after each iteration.
    """

    bands: int
    mean: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rho: np.ndarray
    variance: np.ndarray
    iterations: int = 0
    converged: bool = False
    count: int = 0
    history: tuple[tuple[float, ...], ...] = field(default=())

    def mad(self, values: np.ndarray) -> np.ndarray:
        """The ``(p, m)`` MAD variates of ``(2p, m)`` pixel values."""
        p = self.bands
        centred = values.astype("float64") - self.mean[:, None]
        return self.a.T @ centred[:p] - self.b.T @ centred[p:]

    def chi2(self, block: np.ndarray) -> np.ndarray:
        """The change statistic ``Z`` of a ``(2p, h, w)`` block (NaN where a band is NaN)."""
        mad = self.mad(block.reshape(2 * self.bands, -1))
        z = np.sum(mad**2 / self.variance[:, None], axis=0)
        return z.reshape(block.shape[1:])

    def with_variance(self, variance: np.ndarray) -> IrmadFit:
        """The same transform with other no-change variances."""
        return replace(self, variance=np.asarray(variance, dtype="float64"))


@dataclass(frozen=True)
class CvaFit:
    """The standardisation of the difference vector.

    Attributes:
        bands: ``p``, the bands per date.
        mean: the mean of each band's difference (later − earlier).
        std: its standard deviation.
        count: the valid pixels.
    """

    bands: int
    mean: np.ndarray
    std: np.ndarray
    count: int = 0

    def magnitude(self, block: np.ndarray) -> np.ndarray:
        """The standardised change magnitude of a ``(2p, h, w)`` block."""
        p = self.bands
        flat = block.reshape(2 * p, -1).astype("float64")
        diff = (flat[p:] - flat[:p] - self.mean[:, None]) / self.std[:, None]
        return np.sqrt(np.sum(diff**2, axis=0)).reshape(block.shape[1:])


def _block_sums(block: np.ndarray, shift: np.ndarray,
                weigh: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    """``[count, Σw, Σw·z (n), Σw·z·zᵀ (n²)]`` of one chunk."""
    n = block.shape[0]
    flat = block.reshape(n, -1)
    valid = np.all(np.isfinite(flat), axis=0)
    out = np.zeros(2 + n + n * n, dtype="float64")
    if valid.any():
        values = flat[:, valid].astype("float64")
        w = np.ones(values.shape[1]) if weigh is None else weigh(values)
        centred = values - shift[:, None]
        weighted = centred * w
        out[0] = values.shape[1]
        out[1] = w.sum()
        out[2:2 + n] = weighted.sum(axis=1)
        out[2 + n:] = (weighted @ centred.T).ravel()
    return out


def weighted_moments(stack: da.Array, *, shift: np.ndarray | None = None,
                     weigh: Callable[[np.ndarray], np.ndarray] | None = None
                     ) -> WeightedMoments:
    """The weighted moments of a ``(n, y, x)`` dask array, accumulated chunk by chunk.

    Args:
        stack: the bands.
        shift: subtracted before summing (numerical stability; e.g. an earlier mean).
        weigh: ``(n, m)`` valid pixel values → ``m`` weights; default all 1.

    Raises:
        ValueError: when no pixel is valid in every band.
    """
    n = stack.shape[0]
    shift = np.zeros(n) if shift is None else np.asarray(shift, dtype="float64")
    totals = reduce_chunks(stack, lambda block: _block_sums(block, shift, weigh), 2 + n + n * n)
    count, weight = int(totals[0]), float(totals[1])
    if count == 0 or weight <= 0:
        raise ValueError("no pixel has valid data on both dates")
    first = totals[2:2 + n] / weight
    second = totals[2 + n:].reshape(n, n) / weight
    covariance = second - np.outer(first, first)
    return WeightedMoments(count=count, weight=weight, mean=shift + first,
                           covariance=(covariance + covariance.T) / 2)


def _canonical(covariance: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical correlation analysis of the two ``p``-band halves of a covariance matrix."""
    ridge = _RIDGE * max(float(np.trace(covariance)) / (2 * p), 1e-12) * np.eye(p)
    sxx = covariance[:p, :p] + ridge
    syy = covariance[p:, p:] + ridge
    sxy = covariance[:p, p:]
    lower = np.linalg.cholesky(sxx)
    inv_lower = np.linalg.inv(lower)
    middle = inv_lower @ sxy @ np.linalg.solve(syy, sxy.T) @ inv_lower.T
    squared, vectors = np.linalg.eigh((middle + middle.T) / 2)  # ascending ρ²
    rho = np.sqrt(np.clip(squared, 0.0, 1.0))
    a = inv_lower.T @ vectors  # aᵀ Sxx a = 1
    b = np.linalg.solve(syy, sxy.T @ a) / np.maximum(rho, 1e-9)  # bᵀ Syy b = 1, cov(U, V) = ρ
    return a, b, rho


def irmad_fit(stack: da.Array, *, iterations: int = 10, tolerance: float = 1e-3,
              progress: Callable[[int, np.ndarray], None] | None = None) -> IrmadFit:
    """Fit IR-MAD on a ``(2p, y, x)`` stack, one pass over the data per iteration.

    Args:
        stack: the earlier date's ``p`` bands then the later date's (NaN = no data).
        iterations: at most this many iterations (1 = the plain MAD transform).
        tolerance: stop when no canonical correlation moves more than this.
        progress: called with the iteration number and the correlations after each one.

    Raises:
        ValueError: when no pixel is valid on both dates.
    """
    p = stack.shape[0] // 2
    fit: IrmadFit | None = None
    history: list[tuple[float, ...]] = []
    for number in range(1, iterations + 1):
        weigh = None if fit is None else _no_change_weight(fit)
        moments = weighted_moments(stack, shift=None if fit is None else fit.mean, weigh=weigh)
        a, b, rho = _canonical(moments.covariance, p)
        previous = fit
        fit = IrmadFit(bands=p, mean=moments.mean, a=a, b=b, rho=rho,
                       variance=np.maximum(2.0 * (1.0 - rho), _MIN_VARIANCE),
                       iterations=number, count=moments.count)
        history.append(tuple(float(r) for r in rho))
        if progress is not None:
            progress(number, rho)
        if previous is not None and np.max(np.abs(rho - previous.rho)) < tolerance:
            return _with(fit, history, converged=True)
    assert fit is not None
    return _with(fit, history, converged=False)


def _with(fit: IrmadFit, history: list[tuple[float, ...]], *, converged: bool) -> IrmadFit:
    return replace(fit, converged=converged, history=tuple(history))


def calibrate(stack: da.Array, fit: IrmadFit, *, bins: int = 4096) -> IrmadFit:
    """Re-estimate the no-change spread of each MAD variate robustly (one pass).

    Nielsen's weights (no-change p-values) shrink the weighted variances ``2(1 − ρᵢ)``
    below the spread of the unchanged pixels as the iterations go on (on pure no-change
    Gaussian data the share of pixels beyond the 99 % chi-square quantile climbs from 1 % to
    about 50 % in 30 iterations), so the chi-square test would flag far too much. The MAD
    variates are centred on the unchanged pixels, so while most pixels are unchanged their
    spread is ``1.4826 · median |Mᵢ|``; the median comes from a histogram of ``|Mᵢ|``
    accumulated chunk by chunk. Where more than half the pixels fall outside the
    histogram, the variance is left as it was.
    """
    p = fit.bands
    limits = 20.0 * np.sqrt(fit.variance)

    def counts(block: np.ndarray) -> np.ndarray:
        flat = block.reshape(2 * p, -1)
        values = flat[:, np.all(np.isfinite(flat), axis=0)]
        out = np.zeros((p, bins + 1))
        if values.size:
            mad = np.abs(fit.mad(values))
            for i in range(p):
                out[i, :bins] = np.histogram(mad[i], bins=bins, range=(0.0, limits[i]))[0]
                out[i, bins] = np.count_nonzero(mad[i] > limits[i])
        return out.ravel()

    totals = reduce_chunks(stack, counts, p * (bins + 1)).reshape(p, bins + 1)
    variance = fit.variance.copy()
    for i in range(p):
        cumulative = np.cumsum(totals[i, :bins])
        half = totals[i].sum() / 2
        if totals[i].sum() == 0 or cumulative[-1] < half:
            continue
        index = int(np.searchsorted(cumulative, half))
        below = cumulative[index - 1] if index else 0.0
        width = limits[i] / bins
        median = width * (index + (half - below) / max(totals[i, index], 1.0))
        variance[i] = max((1.4826 * median) ** 2, _MIN_VARIANCE)
    return fit.with_variance(variance)


def _no_change_weight(fit: IrmadFit) -> Callable[[np.ndarray], np.ndarray]:
    """The IR-MAD weight of valid pixels ``(2p, m)``: their no-change probability."""
    def weigh(values: np.ndarray) -> np.ndarray:
        z = fit.chi2(values[:, None, :])[0]
        return chi2.sf(z, fit.bands)

    return weigh


def cva_fit(stack: da.Array) -> CvaFit:
    """The mean and spread of each band's difference, for standardised CVA (one pass).

    Raises:
        ValueError: when no pixel is valid on both dates.
    """
    p = stack.shape[0] // 2
    moments = weighted_moments(stack)
    cov = moments.covariance
    variance = np.array([cov[i, i] + cov[p + i, p + i] - 2 * cov[i, p + i] for i in range(p)])
    std = np.sqrt(np.maximum(variance, 1e-12))
    return CvaFit(bands=p, mean=moments.mean[p:] - moments.mean[:p], std=std,
                  count=moments.count)


def box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """The mean over a ``(2r+1)²`` window of a 2-D array (NaN ignored; edges reflected)."""
    if radius <= 0:
        return values
    finite = np.isfinite(values)
    padded = np.pad(np.where(finite, values, 0.0), radius, mode="reflect")
    counts = np.pad(finite.astype("float64"), radius, mode="reflect")
    size = 2 * radius + 1

    def window_sum(array: np.ndarray) -> np.ndarray:
        summed = np.cumsum(np.cumsum(array, axis=0), axis=1)
        summed = np.pad(summed, ((1, 0), (1, 0)))
        return (summed[size:, size:] - summed[:-size, size:] - summed[size:, :-size]
                + summed[:-size, :-size])

    total, number = window_sum(padded), window_sum(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / number
    return np.where(finite, mean, np.nan)


def as_stack(before: xr.DataArray, after: xr.DataArray, chunk: int) -> da.Array:
    """The ``(2p, y, x)`` float32 dask stack of two dates on one grid."""
    first = before.data if isinstance(before.data, da.Array) else da.from_array(before.data)
    second = after.data if isinstance(after.data, da.Array) else da.from_array(after.data)
    stack = da.concatenate([first.astype("float32"), second.astype("float32")], axis=0)
    return stack.rechunk({0: -1, 1: chunk, 2: chunk})
