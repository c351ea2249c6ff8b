"""Specification of the bounded statistics: quantile sketch, top-k, slowest, time series."""

from __future__ import annotations

import math
import random

import pytest
from join_builders import T0

from lambda_trace.analyzer.sketches import QuantileSketch, Slowest, SpaceSaving, TimeSeries

QUANTILES = (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def exact(sorted_values: list[float], q: float) -> float:
    return sorted_values[math.floor(q * (len(sorted_values) - 1))]


@pytest.mark.parametrize("distribution", ["lognormal", "uniform", "bimodal"])
def test_sketch_quantiles_are_within_one_percent_of_exact_on_100k_values(distribution: str) -> None:
    """Every quantile of 100,000 values is within the 1% relative accuracy of the exact one."""
    rng = random.Random(7)
    if distribution == "lognormal":
        values = [rng.lognormvariate(3.0, 1.2) for _ in range(100_000)]
    elif distribution == "uniform":
        values = [rng.uniform(0.5, 30_000) for _ in range(100_000)]
    else:
        values = [rng.gauss(20, 2) if rng.random() < 0.9 else rng.gauss(900, 50)
                  for _ in range(100_000)]
    sketch = QuantileSketch(relative_accuracy=0.01)
    for v in values:
        sketch.add(v)
    values.sort()
    for q, estimate in zip(QUANTILES, sketch.quantiles(QUANTILES)):
        truth = exact(values, q)
        assert estimate is not None
        assert abs(estimate - truth) <= 0.01 * truth, (q, estimate, truth)
    assert sketch.count == 100_000
    assert sketch.min == values[0] and sketch.max == values[-1]
    assert sketch.mean == pytest.approx(sum(values) / len(values))


def test_sketch_bucket_count_is_bounded_and_high_quantiles_stay_accurate() -> None:
    """With ``max_bins`` buckets only the lowest quantiles coarsen; the tail stays exact to 1%."""
    sketch = QuantileSketch(max_bins=64)
    values = [1.1**k for k in range(400)]  # spans ~16 orders of magnitude
    for v in values:
        sketch.add(v)
    assert len(sketch) <= 64
    for q in (0.9, 0.95, 0.99):
        truth = exact(values, q)
        assert sketch.quantile(q) == pytest.approx(truth, rel=0.01)


def test_merged_sketches_equal_one_sketch_of_all_values() -> None:
    """Merging is exact: two halves merged answer like one sketch of everything."""
    rng = random.Random(3)
    values = [rng.expovariate(1 / 50) for _ in range(20_000)]
    whole, a, b = QuantileSketch(), QuantileSketch(), QuantileSketch()
    for i, v in enumerate(values):
        whole.add(v)
        (a if i % 2 else b).add(v)
    a.merge(b)
    assert a.quantiles(QUANTILES) == whole.quantiles(QUANTILES)
    assert a.count == whole.count and a.max == whole.max


def test_sketch_counts_zero_and_tiny_values_and_is_empty_safe() -> None:
    """Zeros count toward ranks; an empty sketch answers None."""
    empty = QuantileSketch()
    assert empty.quantile(0.5) is None and empty.mean is None
    sketch = QuantileSketch()
    for v in [0.0] * 60 + [100.0] * 40:
        sketch.add(v)
    assert sketch.quantile(0.5) == 0.0
    assert sketch.quantile(0.9) == pytest.approx(100.0, rel=0.01)
    assert sketch.quantile(0) == 0.0 and sketch.quantile(1) == 100.0


def test_adding_many_values_at_once_equals_adding_them_one_by_one() -> None:
    """``add_many`` is a faster ``add`` with the same result, zeros included."""
    rng = random.Random(11)
    values = [0.0] * 5 + [rng.expovariate(1 / 30) for _ in range(5000)]
    one, many = QuantileSketch(), QuantileSketch()
    for v in values:
        one.add(v)
    many.add_many(values[:2000])
    many.add_many(values[2000:])
    assert many.quantiles(QUANTILES) == one.quantiles(QUANTILES)
    assert (many.count, many.min, many.max) == (one.count, one.min, one.max)
    assert many.sum == pytest.approx(one.sum)


def test_sketches_of_different_accuracy_refuse_to_merge() -> None:
    """Merging needs the same bucket boundaries."""
    with pytest.raises(ValueError):
        QuantileSketch(0.01).merge(QuantileSketch(0.02))


def test_space_saving_keeps_the_heavy_hitters_within_capacity() -> None:
    """Keys far above total/capacity survive a long tail of one-off keys, with their counts."""
    top = SpaceSaving(capacity=10)
    for i in range(10_000):
        top.add("hot" if i % 3 == 0 else f"cold-{i}", example=i)
        if i % 5 == 0:
            top.add("warm")
    assert len(top) <= 10
    rows = {key: (count, err) for key, count, err, _ in top.items()}
    assert rows["hot"][0] - rows["hot"][1] <= 3334 <= rows["hot"][0]
    assert rows["warm"][0] - rows["warm"][1] <= 2000 <= rows["warm"][0]
    assert top.items()[0][0] == "hot"


def test_space_saving_is_exact_while_keys_fit() -> None:
    """Below capacity, counts are exact and the first example is kept."""
    top = SpaceSaving(capacity=5)
    for key in "abacabad":
        top.add(key, example=f"first {key}")
    assert [(k, c, e, x) for k, c, e, x in top.items()][:2] == [
        ("a", 4, 0, "first a"), ("b", 2, 0, "first b")]


def test_slowest_keeps_the_n_largest_largest_first() -> None:
    """Only the top ``n`` scores are kept."""
    slow = Slowest(3)
    for score in [5, 1, 9, 7, 3, 8]:
        slow.add(score, f"item {score}")
    assert slow.items() == ["item 9", "item 8", "item 7"]
    assert not slow.would_keep(6) and slow.would_keep(10)


def test_time_series_stays_under_max_points_and_keeps_totals() -> None:
    """Re-bucketing coarser keeps the count, the maximum duration and the memory peak."""
    series = TimeSeries(max_points=50, bucket_ms=1000)
    for i in range(10_000):
        series.add(T0 + i * 997, duration_ms=float(i % 100), peak_mb=100 + (i == 5000) * 400,
                   size_mb=512)
    points = series.points()
    assert len(points) <= 50
    assert sum(p["invocations"] for p in points) == 10_000
    assert max(p["duration_max_ms"] for p in points) == 99.0
    assert max(p["max_memory_used_mb"] for p in points) == 500
    assert [p["start_ms"] for p in points] == sorted(p["start_ms"] for p in points)


def test_extend_buffers_unchecked_values_and_drops_junk_when_folding_them_in() -> None:
    """``extend`` gives the same sketch as ``add_many`` of the clean values; None, strings that
    are not numbers, NaN and infinity are dropped, numeric strings are read as numbers."""
    rng = random.Random(5)
    clean = [rng.expovariate(1 / 20) for _ in range(1000)]
    junk: list[object] = [None, "n/a", math.nan, math.inf, "12.5"]
    buffered, reference = QuantileSketch(), QuantileSketch()
    expected: list[float] = []
    for i in range(0, len(clean), 3):
        chunk: list[object] = list(clean[i:i + 3])
        expected.extend(clean[i:i + 3])
        if i % 7 == 0:
            chunk.append(junk[i % len(junk)])
            if junk[i % len(junk)] == "12.5":
                expected.append(12.5)
        buffered.extend(chunk)
    reference.add_many(expected)
    assert buffered.count == reference.count
    assert buffered.quantiles(QUANTILES) == reference.quantiles(QUANTILES)
    assert (buffered.min, buffered.max) == (reference.min, reference.max)
    assert buffered.sum == pytest.approx(reference.sum)
