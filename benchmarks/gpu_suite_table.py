"""The printed table of benchmarks/gpu_suite.py's JSON (also: python benchmarks/gpu_suite_table.py FILE)."""

import json
import sys


def _fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def finetune_lines(sec):
    lines = [
        "| model | framework | precision (ran) | train samples/s | eval samples/s | dev acc | MFU % |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sec.get("runs", []):
        if "train_samples_per_s" in r:
            lines.append(
                f"| {r['model']} | {r['framework']} | {r['precision']} ({r['run_precision']}) | "
                f"{_fmt(r['train_samples_per_s'])} | {_fmt(r['eval_samples_per_s'])} | {_fmt(r['dev_accuracy'], 2)} | "
                f"{_fmt(r['mfu_percent'], 2)} |"
            )
        else:
            why = r.get("skipped") or r.get("error", "")
            lines.append(f"| {r['model']} | {r['framework']} | {r['precision']} | {why[:70]} | | | |")
    for q in sec.get("ratios", []):
        lines.append(
            f"claf / HF Trainer, {q['model']} {q['precision']}: {q['train_speedup_vs_hf']}x samples/s, "
            f"accuracy {q['accuracy_minus_hf']:+.2f}"
        )
    return lines


def pretrain_lines(sec):
    lines = [
        f"batch {sec.get('batch')} x length {sec.get('length')}, {sec.get('precision')}, bf16 peak "
        f"{_fmt(sec.get('bf16_peak_tflops'))} TFLOP/s",
        "| run | sequences/s | tokens/s | MFU % | busy share | data wait share |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in sec.get("runs", {}).items():
        if "sequences_per_s" not in r:
            lines.append(f"| {name} | {r.get('skipped', '')} | | | | |")
            continue
        busy = r.get("gpu_busy_share", r.get("busy_share_host_clock"))
        lines.append(
            f"| {name} | {_fmt(r['sequences_per_s'])} | {_fmt(r['tokens_per_s'], 0)} | {_fmt(r['mfu_percent'], 2)} | "
            f"{_fmt(busy, 3)} | {_fmt(r['data_wait_share'], 3)} |"
        )
    if "speedup_vs_hf" in sec:
        lines.append(f"claf / BertForMaskedLM: {sec['speedup_vs_hf']}x sequences/s")
    return lines


def serving_lines(sec):
    lines = [
        f"model {sec.get('model', {}).get('layers')} layers, hidden {sec.get('model', {}).get('hidden')}; {sec.get('gpu') or 'cpu'}"
    ]
    for name, state in sec.get("backends", {}).items():
        lines.append(f"  {name}: {'ran' if state.get('ran') else 'skipped: ' + state.get('skipped', '')[:110]}")
    for name, ms in sec.get("batch1_length128_p50_ms", {}).items():
        lines.append(f"  batch 1, length 128, p50: {name} {ms} ms")
    trt = sec.get("tensorrt", {})
    for r in trt.get("rows", []):
        lines.append(f"  batch {r['batch']}, length {r['length']}, p50: onnx-tensorrt {r['p50_ms']:.3f} ms")
    if trt.get("skipped"):
        lines.append(f"  tensorrt: skipped: {trt['skipped'][:110]}")
    if sec.get("posted") is not None:
        lines.append(f"  posted to the benchmark server: {sec['posted']}")
    return lines


def factory_lines(sec):
    base = sec.get("cpu_baseline") or {}
    lines = [
        f"jobs done {sec.get('jobs_done')} / queued {sec.get('jobs_queued')} (failed {sec.get('jobs_failed')}) in "
        f"{sec.get('seconds')} s: {sec.get('jobs_per_minute')} jobs/min; 2-core CPU run {base.get('jobs_per_minute')} "
        f"jobs/min ({sec.get('jobs_per_minute_vs_cpu', '-')}x); worker env {sec.get('worker_env')}",
    ]
    for task, s in sec.get("mean_job_s", {}).items():
        lines.append(f"  {task}: {s} s per job (CPU {base.get('mean_job_s', {}).get(task, '-')} s)")
    return lines


LINES = {"finetune": finetune_lines, "pretrain": pretrain_lines, "serving": serving_lines, "factory": factory_lines}


def table(report):
    env = report.get("environment", {})
    out = [
        f"GPU suite{' (dry run)' if report.get('dry_run') else ''}: {env.get('device')}, torch {env.get('torch')}, "
        f"transformers {env.get('transformers')}, {env.get('date')}; total {report.get('total_seconds')} s",
        f"matmul peaks (TFLOP/s): {report.get('peaks_tflops')}",
    ]
    for name, sec in report.get("sections", {}).items():
        out.append(f"\n## {name}: {sec.get('status')} ({sec.get('seconds', 0)} s of {sec.get('cap_s', '-')})")
        if sec.get("status") == "error":
            out.append(f"error: {sec.get('error')}")
        elif sec.get("status") == "ok":
            out.extend(LINES[name](sec))
        else:
            out.append(sec.get("reason", ""))
    return "\n".join(out)


if __name__ == "__main__":
    print(table(json.loads(open(sys.argv[1], encoding="utf-8").read())))
