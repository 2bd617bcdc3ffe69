"""The pre-training page: the tiny recipe against random init with intervals, and the shipped tables judged again.

Sources: ``payoff_3x3.json`` (``claf compare`` of pre-training replicas against random init, one entry per
machine kind) and ``table_intervals.json`` (``benchmarks/table_intervals.py``: the shipped tables' gains with
intervals, and the old "bold best" against the new rule).
"""

from . import budget
from .common import BENCH, compare_table, load, page, provenance, table

PAGE = "pretraining.md"
TITLE = "Pre-training results"
SUMMARY = "the tiny LaRva recipe against random init (pre-training x fine-tuning seeds), the older tables judged"
GENERAL = "payoff_general.json"  # issue 25: the general recipe (no suite text in its corpus), same statistics
SOURCES = ["payoff_3x3.json", "table_intervals.json", "payoff_results.json"]
SOURCES += [GENERAL] if (BENCH / GENERAL).is_file() else []
SOURCES += [budget.SOURCE] if (BENCH / budget.SOURCE).is_file() else []
LEVERS = "levers.json"  # issue 25 item 4: each lever (one pre-training seed) against random init and the recipe
SOURCES += [LEVERS] if (BENCH / LEVERS).is_file() else []
FLOORS = "trivial_baselines.json"  # what each wide-suite task scores with no model
SOURCES += [FLOORS] if (BENCH / FLOORS).is_file() else []
CLS = "cls_spread.json"  # what each checkpoint's frozen top layer gives a classifier (the ELECTRA question)
SOURCES += [CLS] if (BENCH / CLS).is_file() else []
OTHER = "another pair's sentence"
PROBE = "copy_probe.json"  # what a next-sentence head reads: copies, and KorSTS zero-shot (graded copies)
SOURCES += [PROBE] if (BENCH / PROBE).is_file() else []
METRIC = {"korsts": "spearman", "klue_sts_split": "pearson"}  # the benchmark's score; accuracy elsewhere
PAIR = "pair_cosine.json"  # what the cosine of a pair's two sentence means says with nothing trained (pooling pair)
SOURCES += [PAIR] if (BENCH / PAIR).is_file() else []
PAIR_SENT = "pair_cosine_contrastive.json"  # the same, model.contrastive's checkpoints beside their plain twins
SOURCES += [PAIR_SENT] if (BENCH / PAIR_SENT).is_file() else []
PAIR_SENT_INTRO = [
    "The checkpoints pre-trained with `model.contrastive` (seeds 51-53, 4,800 steps) beside the general",
    "recipe's seeds 51-53 at 8,000, the same measure as above; H3 of",
    "`benchmarks/preregistered/sentence_contrastive_epyc.md`.",
]


def floors_section(data: dict, general: dict) -> list[str]:
    """Each suite task's floor (no model) beside the latest general-recipe entry's two means."""
    lines = [
        "## What each task scores with no model",
        "",
        "- Machine: any (no training; the numbers follow from the data).",
        f"- Date: {data['date']}.",
        f"- Command: `{data['command']}`.",
        "",
        "A classification floor predicts the training split's majority label. An STS floor is the share of",
        "word pieces the two sentences share, put on the label scale by a line fitted on the training pairs.",
        "Neither looks at what a word means. A model below its floor has learned less than this.",
        "",
    ]
    runs = {k: r for k, r in general.items() if r["compare"]["a"]["model"] == "larva-kor-tiny"}
    header = ["task", "floor", "metric", "floor score", "dev examples"]
    if runs:
        lines += ["Beside it, the general recipe's and random init's means (A / B) in each table above:", ""]
        header += [f"A / B, {kind}" for kind in runs]
    rows = []
    for task, floor in data["tasks"].items():
        metric = METRIC.get(task, "accuracy")
        row = [task, floor["method"], metric, f"{floor['metrics'][metric]:.2f}", floor["dev"]]
        for run in runs.values():
            means = {t["task"]: t for t in run["compare"]["tasks"]}
            row.append(f"{means[task]['a']['mean']:.2f} / {means[task]['b']['mean']:.2f}" if task in means else "")
        rows.append(row)
    return lines + table(header, rows)


def pair_section(data: dict, heading="What a pair's cosine says before fine-tuning", intro=None) -> list[str]:
    """Per pair task, each model's untrained cosine score (Spearman for STS, AUC for two labels)."""
    lines = [
        f"## {heading}",
        "",
        f"- Machine: {data.get('cpu', 'not recorded')} (no training; the encoders run in fp32).",
        f"- Date: {data['date']}.",
        f"- Command: `{data['command']}`.",
        "",
        "Each dev pair is encoded together (as the suite's jobs do, "
        f"{data['max_length']} tokens); the score is the cosine of the two",
        "sentences' token means, the mean of `pooling: pair`'s features, against the label with nothing",
        "trained.",
        *(
            intro
            or [
                "It is what the pre-registered pair-pooling runs (`benchmarks/preregistered/pair_pooling_epyc.md`)",
                "started from.",
            ]
        ),
        "",
    ]
    tasks = data["tasks"]
    models = [m for m in next(iter(tasks.values())) if m != "dev"]
    rows = []
    for task, scores in tasks.items():
        metric = next(iter(scores[models[0]]), "")
        rows.append([task, metric, scores["dev"]] + [f"{scores[m].get(metric, float('nan')):.4g}" for m in models])
    return lines + table(["task", "score", "dev pairs", *models], rows)


def cls_section(data: dict) -> list[str]:
    """Per machine kind: each checkpoint's [CLS] spread, [CLS] attention entropy and NSMC linear probes."""
    lines = [
        "## What a frozen top layer gives a classifier",
        "",
        "Spread: the [CLS] vector's variance across sentences over the token vectors' variance (0: the same",
        "vector for every sentence). Entropy: of the top layer's [CLS] attention over log length (1: uniform).",
        "Probes: NSMC dev accuracy of a logistic regression on frozen [CLS] or token-mean features.",
        "",
    ]
    for kind, run in data.items():
        rows = run["rows"]
        lines += [
            f"### {kind}",
            "",
            f"- Machine: {kind}.",
            f"- Date: {run['date']}.",
            f"- Command: `{run['command']}`.",
            f"- Rows: {rows['train']} NSMC train, {rows['dev']} dev, {rows['max_length']} tokens; the majority label "
            f"scores {run['models']['majority']:.2f}.",
            "",
        ]
        body = [
            [
                name,
                f"{m['cls_spread']:.4f}",
                f"{m['cls_attention_entropy']:.3f}",
                f"{m['probe_cls']:.2f}",
                f"{m['probe_mean']:.2f}",
            ]
            for name, m in run["models"].items()
            if name != "majority"
        ]
        lines += table(
            ["model", "[CLS] spread", "[CLS] attention entropy", "probe on [CLS]", "probe on token mean"], body
        )
        lines.append("")
    return lines


def probe_section(data: dict) -> list[str]:
    """Each checkpoint's next-sentence head: P(another document) by instance kind, and on KorSTS pairs."""
    lines = [
        "## What a next-sentence head reads",
        "",
        "P(other): the pre-trained head's probability that B comes from another document. Training instances:",
        "1,024 of the tiny recipe's pairs, with copies made as the checkpoint's recipe makes them (graded when it",
        "does not grade). KorSTS: sentence 1 of 400 dev pairs against itself and others; the last column ranks",
        "all 1,500 dev pairs by -P(other) against the gold score (rank correlation x 100).",
        "",
        f"- Machine: {data['cpu']}.",
        f"- Date: {data['date']}.",
        f"- Command: `{data['command']}`.",
        "",
    ]
    body = []
    for name, m in data["checkpoints"].items():
        inst, sts = m["instances"], m["korsts"]
        body.append(
            [
                name,
                f"{inst['copies']:.3f}",
                f"{inst['true next']:.2f} / {inst['random next']:.2f}",
                f"{inst['copy, none replaced']:.2f} / {inst['copy, half or more replaced']:.2f}",
                f"{sts['copy in place']:.2f} / {sts['copy rotated']:.2f}",
                f"{sts['gold partner']:.2f} / {sts[OTHER]:.2f}",
                f"{sts['spearman(-P(other), gold) x 100']:+.1f}",
            ]
        )
    head = ["checkpoint", "copies", "true / random next", "copy untouched / half+ replaced"]
    head += ["KorSTS copy in place / rotated", "gold partner / another's", "zero-shot"]
    return lines + table(head, body) + [""]


def _interval(entry: dict) -> str:
    if entry.get("verdict") is None:
        return f"{entry['delta']:+.2f} (one seed: no interval)"
    return f"{entry['delta']:+.2f} [{entry['low']:+.2f}, {entry['high']:+.2f}] {entry['verdict']}"


def average_replicas_note(run: dict) -> list[str]:
    """How the entry's task average drew replicas, where that matters (more than one replica on a side)."""
    if run.get("average_replicas") == "per task":
        return [
            "This entry's task average drew replicas per task, as the code did before 2026-12-06. Its database",
            "is on another machine, so it was not recomputed, and its average's interval may be too narrow.",
            "",
        ]
    if run.get("recompared"):
        return [f"Recomputed on {run['recompared']}: the task average draws each side's replicas once per draw.", ""]
    return []


def compare_section(runs: dict, source: str = "payoff_3x3.json", title: str = "") -> list[str]:
    title = title or "The tiny recipe against random init, pre-training seeds x fine-tuning seeds"
    lines = [f"## {title}", ""]
    for kind, run in runs.items():
        report = run["compare"]
        lines += [f"### {kind}", ""]
        lines += provenance(run, source, f"'{kind}'")
        lines += [
            f"{report['a']['model']}@{report['a']['step']} against {report['b']['model']} "
            f"({report['bootstrap']['draws']} multi-bootstrap draws, 95% intervals).",
            "",
        ]
        lines += compare_table(report)
        lines += ["n is replicas x fine-tuning seeds per replica x dev examples.", ""]
        lines += average_replicas_note(run)
        if run.get("per_replica"):
            lines += ["Each replica's mean per task (fine-tuning seeds averaged):", ""]
            tasks = sorted({t for r in run["per_replica"].values() for t in r})
            lines += table(
                ["replica", *tasks],
                [[replica, *(f"{scores[t]:.2f}" for t in tasks)] for replica, scores in run["per_replica"].items()],
            )
        if run.get("per_replica_b") and len(run["per_replica_b"]) > 1:
            lines += [f"Each replica of the baseline {report['b']['model']} (fine-tuning seeds averaged):", ""]
            tasks = sorted({t for r in run["per_replica_b"].values() for t in r})
            lines += table(
                ["replica", *tasks],
                [[replica, *(f"{scores[t]:.2f}" for t in tasks)] for replica, scores in run["per_replica_b"].items()],
            )
        if run.get("held_out"):
            lines += ["Held-out pre-training figures of each replica at that step:", ""]
            lines += table(
                ["replica", "MLM loss", "MLM accuracy %", "NSP loss"],
                [
                    [
                        replica,
                        f"{figures.get('mlm_loss', float('nan')):.3f}",
                        f"{figures.get('mlm_accuracy', float('nan')):.1f}",
                        f"{figures.get('nsp_loss', float('nan')):.3f}",
                    ]
                    for replica, figures in run["held_out"].items()
                ],
            )
        if run.get("job_seconds"):
            total = ", ".join(f"{ck} {s:.0f} s" for ck, s in run["job_seconds"].items())
            lines += [f"Fine-tuning job seconds per checkpoint (the suite, all seeds): {total}.", ""]
        if run.get("note"):
            lines += [run["note"], ""]
    return lines


def levers_summary(runs: dict) -> list[str]:
    """One row per lever entry: the suite-average difference with its interval, and the per-task verdicts."""
    lines = [
        "## Levers (issue 25, item 4)",
        "",
        "Each lever is the general recipe with one change, pre-trained once (seed 42) at about the same compute,",
        "and fine-tuned on the wide suite with 3 seeds per task. Each is compared twice: with random init, and with",
        "the general recipe's own seed-42 run (`larva-kor-tiny-s42`), which isolates the lever's effect. With one",
        "pre-training seed, the intervals leave out pre-training-seed variance; they are narrower than the truth.",
        "The entries named 'fine-tuning at learning rate 2e-4' change the suite instead: every task fine-tunes at",
        "2e-4 rather than 5e-4, for the checkpoint and for random init alike. The entry named 'encoder dropout",
        "0.1' changes the suite too (`suite.head_options`), with 3 pre-training seeds against 3 random inits; so",
        "do the 'pooling' entries (the heads read the token mean instead of [CLS]); the two that set mean pooling",
        "against [CLS] read B from a second database (`claf compare --db-b`). The AMX ELECTRA entries re-use the",
        "AVX-512 ELECTRA recipe against 3 random inits; one of them re-draws its top layer before fine-tuning.",
        "The 'graded copies' entries were pre-registered (`benchmarks/preregistered/graded_copies.md`) and have 3",
        "pre-training seeds; the 'spliced copies' entry is one seed, read against the same 3 random inits.",
        "The 'eojeol masking' and 'n-gram masking' entries were pre-registered too",
        "(`benchmarks/preregistered/eojeol_masking_epyc.md`): 3 pre-training seeds (48-50, the plain recipe's EPYC",
        "seeds) against the recipe's same seeds and against random inits 6-8, every side mean-pooled.",
        "The '42,000 steps' entries are not a lever but more compute, pre-registered",
        "(`benchmarks/preregistered/budget_mean_epyc.md`): the unchanged recipe trained 5.25 times as long, seeds",
        "48-49, against the recipe's 8k seeds 48-50 and random inits 6-8, every side mean-pooled.",
        "The 'pair pooling' entries change no checkpoint either: the heads of the pair tasks read the product of",
        "the two sentences' unit-length token means (`pooling: pair`), pre-registered",
        "(`benchmarks/preregistered/pair_pooling_epyc.md`), on the plain recipe's seeds 48-50 against random inits",
        "6-8. Suite A pair-pools the two STS tasks (both tiny suites now do); suite B every pair task.",
        "The 'depth' entries were pre-registered (`benchmarks/preregistered/depth_15min_epyc.md`): 4 layers at",
        "width 96 instead of 2 at 128, both fitted by `--trainer.budget_minutes 14.3` (equal wall time, seeds",
        "54-56), against the recipe's budgeted seeds 54-56 and against random inits 6-8 of each architecture,",
        "under the wide suite as it ships.",
        "",
        f"- Machine: {'; '.join(sorted({run['cpu'] for run in runs.values()}))}.",
        f"- Date: {', '.join(sorted({run['date'] for run in runs.values()}))}.",
        "- Command: `python benchmarks/payoff_compare.py --out benchmarks/levers.json --a LEVER@8k --b BASELINE`"
        " after each lever's own pre-training and factory commands, which its compare table below names.",
        "",
    ]
    rows = []
    for kind, run in runs.items():
        report = run["compare"]
        avg, verdicts = report["average"], [t["verdict"] for t in report["tasks"]]
        rows.append(
            [
                kind,
                f"{report['a']['model']}@{report['a']['step']}",
                f"{report['b']['model']}@{report['b']['step']}",
                f"{avg['delta']:+.2f} [{avg['low']:+.2f}, {avg['high']:+.2f}] {avg['verdict']}",
                f"{verdicts.count('better')} / {verdicts.count('worse')} of {len(verdicts)}",
            ]
        )
    return lines + table(["entry", "A", "B", "average A - B [95% interval]", "tasks better / worse"], rows)


def tables_section(data: dict) -> list[str]:
    survival = data["bold_survival"]
    lines = [
        "## The shipped tables through the multi-bootstrap",
        "",
        "- Machine: each table's, in the table below.",
        "- Date: each table's, in the table below.",
        f"- Command: `{data['command']}` ({data['draws']} draws) over `{data['source']}`.",
        "",
        "Each row of those tables is **one** pre-training run fine-tuned with 1-3 seeds, so these intervals",
        "resample fine-tuning seeds only and are narrower than the truth: pre-training-seed variance is not in them.",
        "",
        f"**The old bold best against the new rule**: of {survival['judged']} task columns that can be judged "
        f"(every cell has 2+ seeds), the old bold survives in {survival['survived']} "
        f"({100 * survival['survived'] / max(1, survival['judged']):.0f}%); in the others it cannot be told "
        f"from the runner-up. {survival['no_interval']} more columns have a one-seed cell and cannot be judged.",
        "",
        "Where each table was measured (as `benchmarks/payoff_results.json` records it):",
        "",
    ]
    lines += table(
        ["table", "machine", "date"],
        [
            [name, entry.get("machine", "not recorded"), entry.get("date", "not recorded")]
            for name, entry in data["tables"].items()
        ],
    )
    rows = [
        [name, row, task, _interval(gain)]
        for name, entry in data["tables"].items()
        for row, tasks in entry["gains"].items()
        for task, gain in tasks.items()
    ]
    return lines + table(["table", "row", "task", "gain over random init [95% interval] verdict"], rows)


def render() -> str:
    body: list[str] = []
    sources = SOURCES[:2]
    if GENERAL in SOURCES:
        title = "The general recipe against random init on the wide suite, pre-training seeds x fine-tuning seeds"
        body += compare_section(load(GENERAL), GENERAL, title)
        sources = [GENERAL, *sources]
    if FLOORS in SOURCES:
        body += floors_section(load(FLOORS), load(GENERAL) if GENERAL in SOURCES else {})
        sources = [*sources, FLOORS]
    if budget.SOURCE in SOURCES:
        body += budget.section()
        sources = [*sources, budget.SOURCE]
    if LEVERS in SOURCES:
        body += levers_summary(load(LEVERS))
        body += compare_section(load(LEVERS), LEVERS, "Each lever's compare tables")
        sources = [*sources, LEVERS]
    if CLS in SOURCES:
        body += cls_section(load(CLS))
        sources = [*sources, CLS]
    if PROBE in SOURCES:
        body += probe_section(load(PROBE))
        sources = [*sources, PROBE]
    if PAIR in SOURCES:
        body += pair_section(load(PAIR))
        sources = [*sources, PAIR]
    if PAIR_SENT in SOURCES:
        body += pair_section(
            load(PAIR_SENT), "A sentence-level loss: the pair's cosine before fine-tuning", PAIR_SENT_INTRO
        )
        sources = [*sources, PAIR_SENT]
    title = "The task-adaptive recipe against random init, pre-training seeds x fine-tuning seeds"
    body += compare_section(load("payoff_3x3.json"), title=title) + tables_section(load("table_intervals.json"))
    return page(TITLE, sources, body)
