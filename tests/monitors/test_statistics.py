"""Each drift statistic against scipy or a hand-computed, cited value."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from watchkeeper.monitors.drift import (
    chi2_test, hellinger, js_distance, kl_divergence, ks_binned, ks_from_cdfs, ks_samples, missing_rate_change,
    psi, wasserstein_binned, wasserstein_samples,
)
from watchkeeper.monitors.drift._shares import coarsen
from watchkeeper.monitors.drift.categories import category_changes

E = [0.25, 0.25, 0.25, 0.25]
A = [0.1, 0.2, 0.3, 0.4]


def test_psi_worked_example():
    """PSI of E=(.25,.25,.25,.25) vs A=(.1,.2,.3,.4) is 0.2282 (interop.md 7.3, verified)."""
    assert psi(E, A) == pytest.approx(0.2282, abs=1e-4)


def test_psi_is_symmetric_and_zero_on_identity():
    """PSI is symmetric in its arguments and 0 for identical distributions."""
    assert psi(E, A) == pytest.approx(psi(A, E))
    assert psi([3, 5, 7], [3, 5, 7]) == 0.0


def test_psi_empty_bin_uses_epsilon():
    """An empty current bin gets share 1e-4 (Evidently's rule), so PSI stays finite."""
    value = psi([50, 50], [100, 0])
    expected = (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert value == pytest.approx(expected)


def test_js_matches_scipy():
    """JS distance equals scipy.spatial.distance.jensenshannon (natural log); 0.1669 on the 7.3 example."""
    assert js_distance(E, A) == pytest.approx(jensenshannon(E, A), rel=1e-12)
    assert js_distance(E, A) == pytest.approx(0.1669, abs=1e-4)
    r, c = [10, 0, 5, 3], [0, 4, 9, 1]
    assert js_distance(r, c) == pytest.approx(jensenshannon(r, c), rel=1e-12)


def test_kl_matches_scipy_entropy():
    """KL(ref || cur) equals scipy.stats.entropy(ref, cur) when no bin is empty."""
    r, c = [10, 20, 30, 40], [25, 25, 25, 25]
    assert kl_divergence(r, c) == pytest.approx(stats.entropy(r, c), rel=1e-12)


def test_hellinger_closed_form():
    """Hellinger of Bernoulli(.5) vs Bernoulli(.9) is sqrt(1 - sqrt(.45) - sqrt(.05))."""
    expected = math.sqrt(1 - math.sqrt(0.5 * 0.9) - math.sqrt(0.5 * 0.1))
    assert hellinger([5, 5], [9, 1]) == pytest.approx(expected)
    assert hellinger([1, 0], [0, 1]) == pytest.approx(1.0)


def test_chi2_matches_contingency_test():
    """The two-sample chi-square equals scipy.stats.chi2_contingency without Yates' correction."""
    r, c = [30, 50, 20, 0], [25, 40, 30, 5]
    expected = stats.chi2_contingency(np.array([r, c])[:, :3], correction=False)
    stat, p = chi2_test(r[:3], c[:3])
    assert stat == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue)
    full = stats.chi2_contingency(np.array([r, c]), correction=False)
    assert chi2_test(r, c)[0] == pytest.approx(full.statistic)


def test_chi2_two_by_two_is_z_test_squared():
    """On two categories the chi-square p-value equals the pooled two-proportion z-test's (Evidently's z)."""
    stat, p = chi2_test([40, 60], [55, 45])
    pooled = 95 / 200
    z = (0.40 - 0.55) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 100))
    assert stat == pytest.approx(z * z)
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_ks_samples_matches_scipy():
    """ks_samples is scipy.stats.ks_2samp with NaN removed."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.3, 1, size=200)
    expected = stats.ks_2samp(a, b)
    got = ks_samples(np.r_[a, np.nan], b)
    assert got == pytest.approx((expected.statistic, expected.pvalue))


def test_ks_binned_equals_raw_on_bin_aligned_data():
    """When every value sits on its own bin, the binned D equals ks_2samp's D and p is its asymptotic p."""
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 20, 5000), rng.integers(2, 22, 4000)
    edges = np.arange(0, 23)
    ra = np.bincount(np.searchsorted(edges, a, side="right"), minlength=24)
    rb = np.bincount(np.searchsorted(edges, b, side="right"), minlength=24)
    d, p = ks_binned(ra, rb)
    expected = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)


def test_ks_from_kll_sketch_cdfs():
    """KS from two exact (small-n) KLL sketches' CDFs at the union of points equals ks_2samp's D."""
    import datasketches as ds

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=150), rng.normal(0.5, 1, size=120)
    ka, kb = ds.kll_doubles_sketch(200), ds.kll_doubles_sketch(200)
    ka.update(a.copy())
    kb.update(b.copy())
    points = np.unique(np.r_[a, b])
    # get_cdf gives P(X < x) by default; D is reached at the data points
    fa, fb = np.array(ka.get_cdf(points.tolist(), False))[:-1], np.array(kb.get_cdf(points.tolist(), False))[:-1]
    d, _ = ks_from_cdfs(fa, fb, ka.n, kb.n)
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic)


def test_wasserstein_samples_is_evidently_normed():
    """Normalised W1 = scipy.stats.wasserstein_distance / std(reference) (Evidently's definition)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(5, 2, 1000), rng.normal(5.4, 2, 800)
    assert wasserstein_samples(a, b) == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a))


def _binned(values, edges):
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=edges.size + 1), np.bincount(idx, weights=values, minlength=edges.size + 1)


def test_wasserstein_binned_close_to_exact():
    """With 100 percentile bins and per-bin sums, binned normalised W1 is within 1% of the exact value."""
    rng = np.random.default_rng(4)
    a, b = rng.lognormal(0, 0.7, 200_000), rng.lognormal(0.2, 0.8, 150_000)
    edges = np.unique(np.quantile(a, np.linspace(0, 1, 101)))
    edges[-1] = np.nextafter(a.max(), np.inf)
    (ra, sa), (rb, sb) = _binned(a, edges), _binned(b, edges)
    got = wasserstein_binned(edges, ra, rb, np.std(a), sa, sb)
    assert got == pytest.approx(wasserstein_samples(a, b), rel=0.01)


def test_wasserstein_binned_without_sums_is_rougher_but_close_for_small_shift():
    """Without per-bin sums (values spread evenly per bin) a 0.3-sd normal shift is still within 5%."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 100_000), rng.normal(0.3, 1, 100_000)
    edges = np.unique(np.quantile(a, np.linspace(0, 1, 101)))
    edges[-1] = np.nextafter(a.max(), np.inf)
    (ra, _), (rb, sb) = _binned(a, edges), _binned(b, edges)
    sb_tails_only = np.where(np.arange(sb.size) % (sb.size - 1) == 0, sb, 0.0)
    sb_tails_only[1:-1] = rb[1:-1] * (edges[:-1] + edges[1:]) / 2
    got = wasserstein_binned(edges, ra, rb, np.std(a), None, sb_tails_only)
    assert got == pytest.approx(wasserstein_samples(a, b), rel=0.05)


def test_wasserstein_binned_exact_for_pure_shift_outside_range():
    """All current mass above the reference range: W1 is exactly mean(cur) - mean(ref)."""
    edges = np.array([0.0, 1.0, 2.0])
    ref, ref_sums = np.array([0, 50, 50, 0]), np.array([0.0, 25.0, 75.0, 0.0])  # means 0.5 and 1.5 -> mean 1
    cur, cur_sums = np.array([0, 0, 0, 10]), np.array([0.0, 0.0, 0.0, 50.0])  # mean 5
    assert wasserstein_binned(edges, ref, cur, 1.0, ref_sums, cur_sums) == pytest.approx(4.0)


def test_missing_rate_change_flags_jump():
    """A 1% -> 20% missing jump is drift; 1% -> 1.5% at 1M rows is significant but below 0.05 so not drift."""
    assert missing_rate_change(100, 10_000, 2000, 10_000).drifted
    small = missing_rate_change(10_000, 1_000_000, 15_000, 1_000_000)
    assert small.p_value < 1e-10 and not small.drifted
    assert missing_rate_change(0, 10, 0, 10).p_value == 1.0


def test_missing_rate_p_value_matches_z_test():
    """The missing-rate p-value is the pooled two-proportion z-test's two-sided p-value."""
    m = missing_rate_change(30, 200, 50, 220)
    pooled = 80 / 420
    z = (30 / 200 - 50 / 220) / math.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 220))
    assert m.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_category_changes():
    """New and vanished categories are listed largest first, with the new share of current rows."""
    ch = category_changes({"a": 5, "b": 3, "c": 1}, {"a": 4, "d": 2, "e": 4})
    assert ch.new == ["e", "d"] and ch.vanished == ["b", "c"] and ch.new_share == pytest.approx(0.6)


def test_coarsen_groups_percentile_bins_into_deciles():
    """100 equal-mass bins coarsen to 10 decile bins, tail bins kept apart."""
    ref = np.r_[0, np.full(100, 10), 0]
    cur = np.r_[3, np.full(100, 10), 7]
    r, c = coarsen(ref, cur, groups=10)
    assert r.tolist() == [0] + [100] * 10 + [0] and c[0] == 3 and c[-1] == 7


def test_misaligned_counts_raise():
    """Count vectors of different lengths are a caller error."""
    with pytest.raises(ValueError, match="not aligned"):
        psi([1, 2], [1, 2, 3])
