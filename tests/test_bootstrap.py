"""Tests for claf.stats.bootstrap: against a reference written here with plain loops, coverage of the true
difference on simulated experiments, pairing, a metric that is not a mean, and the one-line errors.

The simulated experiments (``simulate``) know their truth. A per-example score of recipe X is

    mu_X + replica offset (N(0, sigma_r)) + seed offset (N(0, sigma_s)) + example difficulty (N(0, sigma_d),
    shared by both recipes) + noise per run and example (N(0, sigma_e)),

so the true difference is mu_A - mu_B. Coverage figures are printed (``pytest -s``) and written into the
assertion messages.
"""

import random

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import f1_score

from claf.stats.bootstrap import (
    BETTER,
    NO_DIFFERENCE,
    WORSE,
    BootstrapError,
    Run,
    bootstrap_deltas,
    bootstrap_means,
    compare,
    compare_average,
    estimate,
    point,
)


def as_runs(table, ids=None, golds=None):
    """[replicas][seeds][examples] -> Runs named s0, s1, ... with fine-tuning seeds 0, 1, ..."""
    return [
        Run(f"s{r}", s, np.asarray(values), example_ids=ids, golds=golds)
        for r, seeds in enumerate(table)
        for s, values in enumerate(seeds)
    ]


# ---- the reference: the nested bootstrap straight from docs/MULTIBOOTSTRAP.md, in plain Python loops


def reference_mean(table, examples, draw, score):
    """One draw's mean for one model: replicas with replacement, each one's seeds with replacement."""
    replica_means = []
    for _ in range(len(table)):
        seeds = table[draw(len(table))]
        seed_scores = [score(seeds[draw(len(seeds))], examples) for _ in range(len(seeds))]
        replica_means.append(sum(seed_scores) / len(seed_scores))
    return sum(replica_means) / len(replica_means)


def reference_deltas(table_a, table_b, B, seed, paired, score):
    draw = random.Random(seed).randrange
    n = len(table_a[0][0])
    deltas = []
    for _ in range(B):
        examples_a = [draw(n) for _ in range(n)]
        examples_b = examples_a if paired else [draw(n) for _ in range(n)]
        deltas.append(
            reference_mean(table_a, examples_a, draw, score) - reference_mean(table_b, examples_b, draw, score)
        )
    return np.array(deltas)


def mean_score(values, examples):
    return sum(values[e] for e in examples) / len(examples)


def assert_same_distribution(module, reference):
    """Module and reference draws come from different random streams: compare them within Monte Carlo error.

    The share of module draws below the reference's 2.5th (above its 97.5th) percentile is 2.5% up to the
    reference's binomial error, sqrt(0.025 * 0.975 / B_ref); the means and stds agree within their standard
    errors. Four standard errors each."""
    b_ref, b_mod = len(reference), len(module)
    quantile_tol = 4 * np.sqrt(0.025 * 0.975 / b_ref) + 4 * np.sqrt(0.025 * 0.975 / b_mod)
    low, high = np.percentile(reference, [2.5, 97.5])
    assert abs(np.mean(module < low) - 0.025) < quantile_tol
    assert abs(np.mean(module > high) - 0.025) < quantile_tol
    sd = reference.std()
    assert abs(module.mean() - reference.mean()) < 4 * sd * np.sqrt(1 / b_ref + 1 / b_mod)
    assert abs(module.std() - sd) < 4 * sd * np.sqrt(1 / (2 * b_ref) + 1 / (2 * b_mod)) * 1.5  # 1.5: non-normal tails


def small_tables(seed=3):
    """Tiny data where every level matters: big replica and seed offsets, few examples."""
    rng = np.random.default_rng(seed)
    d = rng.normal(0, 1, 12)  # shared difficulty

    def table(mu, replicas, seeds):
        return [
            [mu + o + rng.normal(0, 0.6) + d + rng.normal(0, 1, 12) for _ in range(seeds)]
            for o in rng.normal(0, 1, replicas)
        ]

    return table(0.5, 3, 2), table(0.0, 4, 3)


@pytest.mark.parametrize("paired", [True, False])
def test_deltas_match_the_reference(paired):
    a, b = small_tables()
    reference = reference_deltas(a, b, 4000, seed=11, paired=paired, score=mean_score)
    module = bootstrap_deltas(as_runs(a), as_runs(b), B=20000, rng=5, paired_examples=paired)
    assert_same_distribution(module, reference)
    # the check has power: resampling examples only (no replica or seed level) is far outside it
    per_example = np.mean([row for seeds in a for row in seeds], axis=0) - np.mean(
        [row for seeds in b for row in seeds], axis=0
    )
    examples_only = per_example[np.random.default_rng(0).integers(12, size=(20000, 12))].mean(axis=1)
    assert examples_only.std() < 0.7 * reference.std()


def test_one_model_matches_the_reference():
    a, _ = small_tables(seed=8)
    draw = random.Random(2).randrange
    reference = np.array([reference_mean(a, [draw(12) for _ in range(12)], draw, mean_score) for _ in range(4000)])
    assert_same_distribution(bootstrap_means(as_runs(a), B=20000, rng=1), reference)
    result = estimate(as_runs(a), B=20000, rng=1)
    assert result["mean"] == pytest.approx(np.mean(a))
    assert result["std"] == pytest.approx(reference.std(), rel=0.06)
    assert (result["n_replicas"], result["n_seeds"], result["n_examples"]) == (3, 2, 12)


def f1_positive(predictions, golds):
    """F1 of class 1, written out (sklearn's is too slow to call thousands of times)."""
    tp = np.sum((predictions == 1) & (golds == 1))
    denominator = np.sum(predictions == 1) + np.sum(golds == 1)
    return 2 * tp / denominator if denominator else 0.0


def test_f1_is_recomputed_on_resampled_examples():
    rng = np.random.default_rng(4)
    golds = (rng.random(30) < 0.3).astype(int)  # few positives: F1 and accuracy far apart
    table = [[np.where(rng.random(30) < 0.25 + 0.1 * r, 1 - golds, golds) for _ in range(2)] for r in range(2)]
    runs = as_runs(table, golds=golds)
    # the point estimate is the mean of each run's F1 on the full set
    assert point(runs, f1_positive) == pytest.approx(np.mean([f1_score(golds, p) for seeds in table for p in seeds]))

    def score(predictions, examples):
        return f1_positive(predictions[examples], golds[examples])

    draw = random.Random(9).randrange
    reference = np.array([reference_mean(table, [draw(30) for _ in range(30)], draw, score) for _ in range(2000)])
    module = bootstrap_means(runs, f1_positive, B=4000, rng=3)
    assert_same_distribution(module, reference)
    # the draws sit around the F1, far from the accuracy a mean of per-example hits would give
    accuracy = point(runs, lambda p, g: np.mean(p == g))
    assert abs(module.mean() - point(runs, f1_positive)) < 0.05 < 0.15 < abs(module.mean() - accuracy)


def test_pearson_point_and_interval():
    rng = np.random.default_rng(6)
    golds = rng.normal(0, 1, 80)
    table = [[golds + rng.normal(0, 0.5 + 0.3 * r + 0.1 * s, 80) for s in range(2)] for r in range(3)]
    metric = lambda p, g: pearsonr(p, g)[0]  # noqa: E731
    result = estimate(as_runs(table, golds=golds), metric, B=300, rng=0)
    assert result["mean"] == pytest.approx(np.mean([pearsonr(p, golds)[0] for seeds in table for p in seeds]))
    assert result["low"] < result["mean"] < result["high"] < 1


# ---- simulated experiments with a known truth


def simulate(rng, n_experiments, replicas, seeds, examples, delta, sigma_r, sigma_s, sigma_d, sigma_e):
    """Yield (runs_a, runs_b) per experiment; recipe A's true mean is ``delta`` above B's."""
    for _ in range(n_experiments):
        difficulty = rng.normal(0, sigma_d, examples)
        pair = []
        for mu in (delta, 0.0):
            offsets = rng.normal(0, sigma_r, (replicas, 1, 1)) + rng.normal(0, sigma_s, (replicas, seeds, 1))
            pair.append(as_runs(mu + offsets + difficulty + rng.normal(0, sigma_e, (replicas, seeds, examples))))
        yield pair


# Pre-training offsets as large as fine-tuning offsets (issue 24's KorSTS rows are of that kind).
REGIME = dict(sigma_r=1.0, sigma_s=1.0, sigma_d=2.0, sigma_e=4.0)


def coverage(replicas, seeds, examples, n_experiments=1000, B=400, seed=2024, delta=0.5):
    rng = np.random.default_rng(seed)
    hits = 0
    for runs_a, runs_b in simulate(rng, n_experiments, replicas, seeds, examples, delta, **REGIME):
        result = compare(runs_a, runs_b, B=B, rng=rng)
        hits += result["low"] <= delta <= result["high"]
    return hits / n_experiments


def test_coverage_of_the_true_difference():
    # Measured while writing this test (1,000 experiments each, B=400): 93.7% with this seed; 92.5%, 93.5%
    # and 93.9% with seeds 1, 2 and 3, so the coverage in this regime is about 93.4%, a little under 95%.
    # The bootstrap std matches the true spread of the estimated difference on average (0.743 against 0.745
    # over 600 experiments); what is short is the tails: with 5 replicas per model the std itself is
    # estimated from few values, as with a t interval on few degrees of freedom. The shortfall grows with the
    # replica share of the variance: sigma_r=0.5 gave 95.7%, sigma_r=2.0 gave 89.7% (same sizes).
    figure = coverage(replicas=5, seeds=3, examples=200)
    print(f"\nmulti-bootstrap coverage, 5 replicas x 3 seeds x 200 examples, 1,000 experiments: {figure:.1%}")
    assert 0.93 <= figure <= 0.97, f"coverage {figure:.1%} (5 replicas x 3 seeds x 200 examples, 1,000 experiments)"


def test_coverage_falls_short_with_two_replicas_and_one_seed():
    # Two replicas of one seed each: the replica level has two values to resample, so the bootstrap sees at
    # most half the replica variance (the spread of a mean of 2 resampled values is sd / 2, not sd / sqrt(2)),
    # and the interval is far too narrow. This is the "one or two pre-training runs" situation of issue 24.
    # Measured while writing this test: 72.8% (in the 95% interval's place).
    figure = coverage(replicas=2, seeds=1, examples=200)
    print(f"\nmulti-bootstrap coverage, 2 replicas x 1 seed x 200 examples, 1,000 experiments: {figure:.1%}")
    assert figure < 0.93, f"coverage {figure:.1%} with 2 replicas x 1 seed was expected below 93%"


def test_paired_intervals_are_narrower_when_examples_correlate():
    rng = np.random.default_rng(7)
    widths = {True: [], False: []}
    for runs_a, runs_b in simulate(rng, 50, 3, 2, 200, 0.5, 0.2, 0.2, 3.0, 1.0):
        for paired in widths:
            result = compare(runs_a, runs_b, B=400, rng=rng, paired_examples=paired)
            assert result["paired_examples"] is paired
            widths[paired].append(result["high"] - result["low"])
    assert np.mean(widths[True]) < 0.6 * np.mean(widths[False])


def test_zero_difference_gives_even_odds():
    rng = np.random.default_rng(8)
    shares = [compare(a, b, B=200, rng=rng)["p_a_better"] for a, b in simulate(rng, 300, 3, 2, 100, 0.0, **REGIME)]
    assert 0.4 <= np.mean(shares) <= 0.6
    assert 0.05 < np.std(shares)  # spread over experiments, not stuck at 0.5


# ---- verdicts, averages, alignment and the one-line errors


def test_verdicts_and_counts():
    rng = np.random.default_rng(1)
    strong = [[rng.normal(1.0, 0.1, 100) for _ in range(3)] for _ in range(3)]
    weak = [[rng.normal(0.0, 0.1, 100) for _ in range(2)] for _ in range(4)]
    better = compare(as_runs(strong), as_runs(weak), B=500)
    assert better["verdict"] == BETTER and better["p_a_better"] == 1.0
    assert better["n_a"] == (3, 3, 100) and better["n_b"] == (4, 2, 100)
    assert compare(as_runs(weak), as_runs(strong), B=500)["verdict"] == WORSE
    same = compare(as_runs(weak), as_runs(weak), B=500)
    assert same["verdict"] == NO_DIFFERENCE and same["delta"] == 0.0


def test_average_over_tasks():
    rng = np.random.default_rng(2)
    tasks_a = {
        t: as_runs([[rng.normal(mu, 1, 150) for _ in range(2)] for _ in range(3)]) for t, mu in [("x", 1), ("y", 0)]
    }
    tasks_b = {t: as_runs([[rng.normal(0, 1, 150) for _ in range(2)] for _ in range(3)]) for t in ("x", "y")}
    result = compare_average(tasks_a, tasks_b, B=500)
    per_task = [compare(tasks_a[t], tasks_b[t])["delta"] for t in ("x", "y")]
    assert result["delta"] == pytest.approx(np.mean(per_task))
    assert result["low"] < result["delta"] < result["high"] and result["n_tasks"] == 2
    with pytest.raises(BootstrapError, match="same tasks"):
        compare_average(tasks_a, {"x": tasks_b["x"]})


def test_the_average_draws_each_models_replicas_once_for_every_task():
    """Every task fine-tunes the same checkpoints, so a replica that is strong on one task is strong on all.
    Simulated with no true difference: drawing the replicas once per draw covers 0 about as often as a 95%
    interval should; drawing them per task treats 5 tasks as 5 fresh replica samples and covers far less."""

    def runs(offsets, rng):
        return [Run(f"r{r}", 0, rng.normal(offset, 1.0, 100)) for r, offset in enumerate(offsets)]

    def coverage(joint: bool) -> float:
        hits = 0
        for e in range(100):
            rng = np.random.default_rng(1000 + e)
            offsets_a, offsets_b = rng.normal(0, 1.0, 8), rng.normal(0, 1.0, 8)  # each replica's own strength
            tasks_a = {f"t{k}": runs(offsets_a, rng) for k in range(5)}
            tasks_b = {f"t{k}": runs(offsets_b, rng) for k in range(5)}
            out = compare_average(tasks_a, tasks_b, B=300, rng=e, joint_replicas=joint)
            assert out["joint_replicas"] is joint
            hits += out["low"] <= 0 <= out["high"]
        return hits / 100

    assert coverage(True) >= 0.88  # 0.93 measured
    assert coverage(False) <= 0.7  # 0.60 measured: the per-task draw's interval is too narrow


def test_the_same_replicas_under_two_protocols_are_drawn_once_for_both():
    """The same 4 checkpoints fine-tuned two ways: each checkpoint's strength (spread 3) is in both sides, and
    the protocol adds 0.5. Paired, the draw keeps a checkpoint on both sides and the interval sees the 0.5;
    unpaired, the checkpoints' spread swamps it."""
    rng = np.random.default_rng(6)
    strength = rng.normal(0, 3.0, 4)
    mean_pooled = [Run(f"ck{r}", s, rng.normal(x + 0.5, 1.0, 300)) for r, x in enumerate(strength) for s in range(2)]
    cls = [Run(f"ck{r}", s, rng.normal(x, 1.0, 300)) for r, x in enumerate(strength) for s in range(2)]
    paired = compare(mean_pooled, cls, B=1000, paired_replicas=True)
    unpaired = compare(mean_pooled, cls, B=1000)
    assert paired["paired_replicas"] and not unpaired["paired_replicas"]
    assert paired["delta"] == pytest.approx(unpaired["delta"])
    assert paired["low"] <= 0.5 <= paired["high"] and paired["verdict"] == BETTER
    assert unpaired["verdict"] == NO_DIFFERENCE and unpaired["high"] - unpaired["low"] > 4 * (
        paired["high"] - paired["low"]
    )
    tasks_a, tasks_b = {"x": mean_pooled, "y": mean_pooled}, {"x": cls, "y": cls}
    assert compare_average(tasks_a, tasks_b, B=500, paired_replicas=True)["verdict"] == BETTER
    with pytest.raises(BootstrapError, match="same replicas"):
        compare(mean_pooled, as_runs([[rng.normal(0, 1, 300)]]), paired_replicas=True)


def test_the_average_falls_back_to_per_task_replica_draws_when_tasks_hold_other_replicas():
    rng = np.random.default_rng(5)
    tasks_a = {t: as_runs([[rng.normal(0, 1, 50)] for _ in range(3)]) for t in ("x", "y")}
    tasks_b = {t: as_runs([[rng.normal(0, 1, 50)] for _ in range(3)]) for t in ("x", "y")}
    assert compare_average(tasks_a, tasks_b, B=200)["joint_replicas"] is True
    tasks_a["y"] = tasks_a["y"][:2]  # task y lacks replica 2's run
    out = compare_average(tasks_a, tasks_b, B=200)
    assert out["joint_replicas"] is False and out["low"] < out["high"]


def test_examples_are_aligned_by_id():
    rng = np.random.default_rng(3)
    ids = [f"dev-{i}" for i in range(40)]
    table_a = [[rng.normal(0.3, 1, 40) for _ in range(2)] for _ in range(2)]
    table_b = [[rng.normal(0.0, 1, 40) for _ in range(2)] for _ in range(2)]
    order = rng.permutation(40)
    shuffled = [
        Run(f"s{r}", s, values[order], example_ids=[ids[i] for i in order])
        for r, seeds in enumerate(table_b)
        for s, values in enumerate(seeds)
    ]
    aligned = compare(as_runs(table_a, ids), as_runs(table_b, ids), B=300, rng=4)
    reordered = compare(as_runs(table_a, ids), shuffled, B=300, rng=4)
    assert reordered.pop("delta") == pytest.approx(aligned.pop("delta"))  # summed in another order
    assert reordered == aligned  # the same draws: the same interval, to the last digit
    assert aligned["paired_examples"] is True
    other = as_runs(table_b, [f"test-{i}" for i in range(40)])
    assert compare(as_runs(table_a, ids), other, B=300)["paired_examples"] is False
    with pytest.raises(BootstrapError, match="same example ids"):
        compare(as_runs(table_a, ids), other, paired_examples=True)


def test_single_replica_single_seed_resamples_examples_only():
    hits = (np.random.default_rng(5).random(2000) < 0.8).astype(float)
    result = estimate([Run("s42", 1, hits)], B=4000)
    # only the examples vary: the bootstrap std is the binomial standard error of the mean
    assert result["std"] == pytest.approx(np.sqrt(hits.mean() * (1 - hits.mean()) / 2000), rel=0.06)
    assert (result["n_replicas"], result["n_seeds"], result["n_examples"]) == (1, 1, 2000)


def test_unbalanced_replicas_weigh_each_replica_equally():
    runs = [Run("s1", 0, np.ones(5)), Run("s1", 1, np.ones(5)), Run("s1", 2, np.ones(5)), Run("s2", 0, np.zeros(5))]
    assert point(runs) == 0.5  # the plain mean over runs would be 0.75
    assert bootstrap_means(runs, B=2000).mean() == pytest.approx(0.5, abs=0.04)


@pytest.mark.parametrize(
    "runs, metric, message",
    [
        ([], None, "no runs"),
        ([Run("s1", 0, [1, 0, 1], example_ids="abc"), Run("s1", 1, [1, 0, 1], example_ids="abd")], None, "share"),
        ([Run("s1", 0, [1, 0]), Run("s1", 0, [0, 1])], None, "appears twice"),
        ([Run("s1", 0, [1, 0, 1])], f1_positive, "no golds"),
        ([Run("s1", 0, ["x", "y"])], None, "must be numbers"),
        ([Run("s1", 0, [1, 0], example_ids="aa")], None, "repeats"),
    ],
)
def test_one_line_errors(runs, metric, message):
    with pytest.raises(ValueError, match=message) as error:
        estimate(runs, metric, B=10)
    assert "\n" not in str(error.value)


def test_run_shape_errors():
    with pytest.raises(BootstrapError, match="2 example ids for 3 values"):
        Run("s1", 0, [1, 0, 1], example_ids=["a", "b"])
    with pytest.raises(BootstrapError, match="draws"):
        estimate([Run("s1", 0, [1.0])], B=0)
