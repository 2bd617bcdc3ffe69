"""The precision page: fp32 against bf16 step times on a CPU with native bf16 and held to AVX2."""

from .common import load, num, page, provenance, table

PAGE = "precision.md"
TITLE = "Precision: fp32 against bf16 on CPUs"
SUMMARY = "fp32 vs bf16 matmul and step times with native bf16 and on AVX2 only; the quick start's first steps"
SOURCES = ["precision_results.json"]
SOURCE = SOURCES[0]


def step_times(data: dict) -> list[str]:
    lines = ["## Step times by CPU kind", ""]
    for key, run in data.items():
        if not isinstance(run, dict) or "matmul_1024_gflops" not in run:
            continue
        mm, tiny, mini = run["matmul_1024_gflops"], run["tiny_pretrain_24x128"], run["minilm_sst2_32x64"]
        lines += [f"### `{key}`", ""]
        lines += provenance(run, SOURCE, f"'{key}'")
        lines += [
            f"Kernels: {run['cpu_capability']}; bf16 flags: {', '.join(run['bf16_flags']) or 'none'}; "
            f"{run['threads']} threads; load average {run['load_before'][0]:.1f} before, {run['load_after'][0]:.1f} after.",
            "",
        ]
        lines += table(
            ["what", "fp32", "bf16", "bf16 / fp32"],
            [
                ["1024² matmul, GFLOP/s", num(mm["fp32"]), num(mm["bf16"]), f"{mm['bf16'] / mm['fp32']:.2f}x"],
                [
                    "tiny pre-training step 24 x 128, s",
                    num(tiny["fp32_s_per_step"], 3),
                    num(tiny["bf16_s_per_step"], 3),
                    f"{tiny['bf16_over_fp32']:.2f}x",
                ],
                [
                    "MiniLM SST-2 step 32 x 64, s",
                    num(mini["fp32_s_per_step"], 3),
                    num(mini["bf16_s_per_step"], 3),
                    f"{mini['bf16_over_fp32']:.2f}x",
                ],
            ],
        )
    return lines


def quick_start(run: dict) -> list[str]:
    lines = ["## The quick start's first 400 steps at `precision auto`", ""]
    lines += provenance(run, SOURCE, "'quick_start_400_steps'")
    if run.get("note"):
        lines += [f"Note: {run['note']}.", ""]
    rows = [
        [
            name,
            num(r["train_samples_per_second"], 2),
            num(r["wall_s"]),
            num(r["corpus_preparation_s"]),
            num(r["load_average"][0]),
            num(r["held_out_mlm_loss"], 3),
        ]
        for name, r in run.items()
        if isinstance(r, dict)
    ]
    return lines + table(["run", "samples/s", "wall s", "corpus preparation s", "load", "held-out MLM loss"], rows)


def render() -> str:
    data = load(SOURCE)
    body = step_times(data)
    if "quick_start_400_steps" in data:
        body += quick_start(data["quick_start_400_steps"])
    intro = f"Note: {data['note']}." if data.get("note") else ""
    return page(TITLE, SOURCES, body, intro, (data.get("provenance_note", ""),))
