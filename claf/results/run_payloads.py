"""Turn a finished run folder into payloads for the benchmark server (no torch, files only).

Fine-tuning run (``config.json`` + ``metrics.json`` Metric Logs) -> one result payload.
Pre-training run (``config.json`` recipe + ``metrics.json`` held-out losses + ``published.json``)
-> one checkpoint payload per published checkpoint, with the model options of the recipe.

A ``benchmark`` block in the config may name what cannot be inferred:
``{"server": URL, "benchmark": "klue", "task": "nsmc", "model": "larva-kor-tiny", "step": 4000}``.
"""

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from claf.errors import RunFolderError
from claf.results.replicas import replica_fields

_STEP = re.compile(r"^(?P<model>.+)-(?:(?P<k>\d+(?:\.\d+)?)k|(?P<n>\d{1,3}))$")  # -4k, -1.25k; below 1k: -500


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path} is missing: is {path.parent} a finished run folder?") from None
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None


def split_checkpoint_name(name: str) -> tuple[str, int]:
    """``larva-kor-tiny-4k`` -> (``larva-kor-tiny``, 4000); a name without a step suffix -> (name, 0)."""
    base = Path(name.rstrip("/")).name if ("/" in name or os.sep in name) else name
    m = _STEP.match(base)
    if not m:
        return base, 0
    if m.group("n"):
        return m.group("model"), int(m.group("n"))
    return m.group("model"), int(round(float(m.group("k")) * 1000))


def _pretrained_name(config: dict) -> str:
    model = config.get("model") or {}
    block = model.get(model.get("name", ""), {}) if isinstance(model.get(model.get("name", "")), dict) else {}
    return str(block.get("pretrained_model_name") or model.get("pretrained_model_name") or "unknown")


def provenance(log_dir: Path) -> dict:
    """claf git revision, torch/transformers versions, device, threads and wall time of the run."""

    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    try:
        rev = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        rev = None
    info = {
        "claf_revision": rev,
        "torch": version("torch"),
        "transformers": version("transformers"),
        "device": "cpu",
        "threads": os.cpu_count(),
    }
    torch = sys.modules.get("torch")  # only when the caller already runs torch (the training process)
    if torch is not None:
        info["device"] = "cuda" if torch.cuda.is_available() else "cpu"
        info["threads"] = torch.get_num_threads()
        info["device_kind"] = _device_kind(torch)
        info["cpu_seconds"] = _cpu_seconds()  # the cost of the run: this process's CPU time (user + system)
    started, ended = log_dir / "config.json", log_dir / "metrics.json"
    if started.exists() and ended.exists():
        info["wall_time_s"] = round(ended.stat().st_mtime - started.stat().st_mtime, 3)
    return info


def _device_kind(torch) -> str:
    """The GPU's name, or the CPU's vector ISA and bf16 flags (e.g. ``cpu AVX2, bf16: none``)."""
    if torch.cuda.is_available():
        return f"cuda {torch.cuda.get_device_name(0)}"
    from claf.hardware import cpu_bf16_flags

    return f"cpu {torch.backends.cpu.get_cpu_capability()}, bf16: {', '.join(sorted(cpu_bf16_flags())) or 'none'}"


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 3)


def result_payload(log_dir) -> dict:
    """The result payload of a finished fine-tuning run folder."""
    log_dir = Path(log_dir)
    config, logs = _read(log_dir / "config.json"), _read(log_dir / "metrics.json")
    if not logs.get("best"):
        raise RunFolderError(f"{log_dir}/metrics.json has no 'best' scores: the run has not evaluated yet")
    block = config.get("benchmark") or {}
    model, step = split_checkpoint_name(_pretrained_name(config))
    checkpoint = {"model": block.get("model") or model, "step": int(block.get("step", step))}
    checkpoint["name"] = block.get("checkpoint") or (
        _pretrained_name(config)
        if checkpoint["model"] == model and checkpoint["step"] == step
        else f"{checkpoint['model']}-{checkpoint['step']}"
    )
    checkpoint["name"] = Path(checkpoint["name"]).name
    metrics = {
        k.split("/", 1)[1]: v for k, v in logs["best"].items() if k.startswith("valid/") and isinstance(v, (int, float))
    }
    payload = {
        "checkpoint": checkpoint,
        "seed": int(config.get("seed_num", 0)),
        "metrics": metrics,
        "history": logs.get("history", []),
        "config": config,
        "provenance": provenance(log_dir),
    }
    examples = log_dir / "predictions" / "examples.json"
    if examples.is_file():  # per-example predictions of the best evaluation (claf.experiment)
        payload["examples"] = _read(examples)
    if block.get("benchmark") or block.get("task"):
        payload["benchmark"], payload["task"] = block.get("benchmark"), block.get("task")
    return payload


def model_options(recipe: dict, checkpoint_dir: Path | None = None) -> dict:
    """The options of a pre-trained model, taken from its recipe (and its exported config, if any)."""
    model, tc = recipe.get("model") or {}, (recipe.get("model") or {}).get("transformers_config") or {}
    options = {
        "objective": model.get("objective"),
        "masking": (recipe.get("masking") or {}).get("strategy"),
        "vocab": (recipe.get("tokenizer") or {}).get("name_or_path"),
        "model_size": f"L{tc.get('num_hidden_layers', '?')}-H{tc.get('hidden_size', '?')}",
    }
    hf_config = (checkpoint_dir / "config.json") if checkpoint_dir else None
    if hf_config and hf_config.is_file():
        options["vocab_size"] = json.loads(hf_config.read_text(encoding="utf-8")).get("vocab_size")
    lower = (recipe.get("tokenizer") or {}).get("do_lower_case")
    if lower is not None:
        options["cased"] = not lower
    return {k: v for k, v in options.items() if v is not None}


def checkpoint_payloads(log_dir) -> list[dict]:
    """One checkpoint payload per published checkpoint of a pre-training run folder."""
    log_dir = Path(log_dir)
    recipe, logs = _read(log_dir / "config.json"), _read(log_dir / "metrics.json")
    published = _read(log_dir / "published.json")
    held_out = {h.get("global_step"): h for h in logs.get("history", [])}
    payloads = []
    for entry in published:
        step = int(entry["step"])
        figures = {
            k.split("/", 1)[1]: v
            for k, v in (held_out.get(step) or {}).items()
            if k.startswith("valid/") and isinstance(v, (int, float))
        }
        figures.update(entry.get("compute") or {})  # pretrain_seconds, pretrain_cpu_seconds (or _gpu_)
        payloads.append(
            {
                "model": recipe.get("name") or split_checkpoint_name(entry["name"])[0],
                "step": step,
                "name": entry["name"],
                "url": entry.get("url", ""),
                "sha256": entry.get("sha256", ""),
                "model_options": model_options(recipe, log_dir / "checkpoints" / entry["name"]),
                "metrics": figures,
                **replica_fields(recipe),
            }
        )
    return payloads


def is_pretrain_folder(log_dir) -> bool:
    return (Path(log_dir) / "published.json").is_file()
