"""The ELECTRA page: MLM against ELECTRA at equal pre-training wall time, then NSMC from each."""

from .common import load, num, page, provenance, table

PAGE = "electra-vs-mlm.md"
TITLE = "ELECTRA against MLM at equal wall time"
SUMMARY = "MLM and ELECTRA pre-trained for the same minutes, then fine-tuned on NSMC against random init"
SOURCES = ["electra_results.json"]
SOURCE = SOURCES[0]


def render() -> str:
    data = load(SOURCE)
    body = ["## One run: pre-training, then NSMC", ""]
    body += provenance(data, SOURCE, "the file")
    body += ["### Pre-training", ""]
    body += [
        f"Budget {data['seconds_budget']:.0f} s per objective; load average {data['load_before'][0]:.1f} before, "
        f"{data['load_after_pretraining'][0]:.1f} after pre-training, {data['load_after'][0]:.1f} at the end.",
        "",
    ]
    rows = []
    for name, o in data["objectives"].items():
        held = ", ".join(f"{k} {v:.3f}" for k, v in o["held_out"].items())
        rows.append(
            [
                name,
                f"`{o['recipe']}`",
                num(o["calibration_steps_per_second"], 2),
                o["steps"],
                num(o["train_seconds"]),
                num(o["wall_seconds"]),
                held,
            ]
        )
    body += table(["objective", "recipe", "steps/s (calibration)", "steps", "train s", "wall s", "held-out"], rows)
    n = data["nsmc"]
    body += [
        "### NSMC from each checkpoint",
        "",
        f"{n['train_rows']:,} training / {n['test_rows']:,} test rows, {n['epochs']} epoch, lr {n['learning_rate']:g}, "
        f"seeds {', '.join(map(str, n['seeds']))}.",
        "",
    ]
    body += table(
        ["model", "accuracy per seed", "median", "spread"],
        [
            [name, ", ".join(f"{a:.2f}" for a in scores), num(n["median"][name], 2), num(n["spread"][name], 2)]
            for name, scores in n["accuracy"].items()
        ],
    )
    return page(TITLE, SOURCES, body, notes=(data.get("provenance_note", ""),))
