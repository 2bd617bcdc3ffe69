"""Factory recipes: which checkpoints x which task BaseConfigs (x seeds) -> job specs.

    recipe = load_recipe("factory/larva_kor_tiny_klue", overrides)
    checkpoints = discover(recipe)                 # from the model index(es), names, URLs or paths
    specs = expand(recipe, checkpoints)            # one spec per (checkpoint, task, seed)

A checkpoint is identified by the sha256 of its archive (index entry), of its folder's files (a
path) or of its URL (an unindexed URL is taken as immutable). ``random:<checkpoint>`` (or
``checkpoints.random_init``) is the same architecture with random weights: the baseline row.
``checkpoints.random_init: 3`` draws three random inits (weight seeds 0, 1, 2), filed as
``<family>-random-init`` and its replicas ``-random-init-s1``, ``-s2``, so ``claf compare`` resamples the
baseline's init as it resamples a pre-trained model's replicas. ``random_init: [3, 4, 5]`` draws inits
with those weight seeds (``-random-init-s3`` ...): fresh baselines for a run that must not reuse old ones.
"""

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claf.config import ConfigError, resolve_config
from claf.results.digest import sha256_of
from claf.results.payloads import config_hash
from claf.results.run_payloads import split_checkpoint_name

RANDOM = "random:"  # a checkpoint source "random:<source>": its architecture from random init (the one home)
_INIT_SEED = re.compile(r"s(?P<seed>\d+):")  # "random:s2:<source>": weight seed 2 (none: seed 0)


def random_source(source: str) -> tuple[str, int]:
    """``random:[s<k>:]<source>`` -> (<source>, weight seed k, 0 when absent)."""
    rest = source[len(RANDOM) :]
    m = _INIT_SEED.match(rest)
    return (rest[m.end() :], int(m.group("seed"))) if m else (rest, 0)


def init_seeds(value: Any) -> list[int]:
    """``checkpoints.random_init`` as the weight seeds of its random inits (false none, true [0], n
    [0 .. n-1], a list itself)."""
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return list(range(int(value or 0)))


@dataclass(frozen=True)
class Checkpoint:
    name: str  # the name results are filed under, e.g. larva-kor-tiny-4k
    sha256: str
    step: int
    model: str  # the benchmark's model row, e.g. larva-kor-tiny
    source: str  # what the runner passes as pretrained_model_name (name, URL, path, random:...)
    url: str = ""
    size: int | None = None
    compute: dict = field(default_factory=dict, compare=False)  # the index entry's pre-training compute figures


def load_recipe(name_or_path, overrides=None) -> Any:
    """A factory recipe's typed spec (``claf.config.specs.factory.FactorySpec``): every key checked once."""
    return resolve_config(name_or_path, overrides, kind="factory")


def recipe_name(recipe: Any, fallback: str = "factory") -> str:
    return str(recipe.get("name") or fallback)


# ---- checkpoints ---------------------------------------------------------------------------------
def index_entries() -> dict[str, dict]:
    """Every name in the model indexes ($CLAF_MODEL_INDEX first, then the local one)."""
    from claf.hub.index import index_locations, parse, read_location

    found: dict[str, dict] = {}
    for location in index_locations():
        text = read_location(location)
        if text is None:
            continue
        for name, entry in parse(text, location).items():
            found.setdefault(name, dict(entry))
    return found


def _from_entry(name: str, entry: dict) -> Checkpoint:
    model, step = split_checkpoint_name(name)
    sha = (entry.get("sha256") or "").lower() or sha256_of(["url", entry.get("url", name)])
    compute = {k: float(v) for k, v in (entry.get("compute") or {}).items() if isinstance(v, (int, float))}
    return Checkpoint(
        name, sha, int(entry.get("step") or step), model, name, entry.get("url", ""), entry.get("bytes"), compute
    )


def _folder_sha(path: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f.relative_to(path).as_posix().encode())
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def _from_source(source: str, entries: dict) -> Checkpoint:
    from claf.hub.cache import sha256_cached

    if source in entries:
        return _from_entry(source, entries[source])
    path = Path(source).expanduser()
    if path.exists():
        name = path.name[:-7] if path.name.endswith(".tar.gz") else path.name
        sha = _folder_sha(path) if path.is_dir() else sha256_cached(path)
        model, step = split_checkpoint_name(name)
        return Checkpoint(
            name,
            sha,
            step,
            model,
            str(path.resolve()),
            path.resolve().as_uri(),
            path.stat().st_size if path.is_file() else None,
        )
    if "://" in source:
        name = source.rstrip("/").rsplit("/", 1)[-1]
        name = name[:-7] if name.endswith(".tar.gz") else name
        model, step = split_checkpoint_name(name)
        return Checkpoint(name, sha256_of(["url", source]), step, model, source, source)
    raise ConfigError(
        f"checkpoints.names: '{source}' is not in the model index, not a path and not a URL; "
        "publish it or give its path/URL"
    )


def random_baseline(of: Checkpoint, seed: int = 0) -> Checkpoint:
    """The same architecture as ``of`` with random weights (weight seed ``seed``): its own model row at
    step 0. One per model family and seed (its key does not depend on which checkpoint lent the
    architecture), so a newer checkpoint does not queue the baseline again. Seed 0 is
    ``<family>-random-init``; another seed k is its replica ``<family>-random-init-s<k>``."""
    family = re.sub(r"-s\d+$", "", of.model)  # the replicas of a model (larva-kor-tiny-s43) share one baseline
    model = f"{family}-random-init" + (f"-s{seed}" if seed else "")
    key = ["random-init", family] + ([seed] if seed else [])
    source = RANDOM + (f"s{seed}:" if seed else "") + of.source
    return Checkpoint(model, sha256_of(key), 0, model, source, of.url, of.size)


def random_baselines(of: Checkpoint, seeds: list[int]) -> list[Checkpoint]:
    """Random inits of ``of``'s architecture, one per weight seed in ``seeds``."""
    return [random_baseline(of, seed) for seed in seeds]


def discover(recipe: Any, entries: dict | None = None) -> list[Checkpoint]:
    """The recipe's checkpoints, newest first, then its random-init baseline (if asked for)."""
    entries = index_entries() if entries is None else entries
    found: dict[str, Checkpoint] = {}
    randoms = []
    for item in recipe.checkpoints.names:
        item = str(item)
        if item.startswith(RANDOM):
            randoms.append(item[len(RANDOM) :])
        elif any(c in item for c in "*?["):
            for name in sorted(entries):
                if fnmatch.fnmatchcase(name, item):
                    ck = _from_entry(name, entries[name])
                    found.setdefault(ck.sha256, ck)
        else:
            ck = _from_source(item, entries)
            found.setdefault(ck.sha256, ck)
    ordered = sorted(found.values(), key=lambda c: (-c.step, c.name))
    seeds = init_seeds(recipe.checkpoints.get("random_init"))
    baselines = [b for r in randoms for b in random_baselines(_from_source(r, entries), seeds or [0])]
    if seeds and ordered:
        baselines += random_baselines(ordered[0], seeds)
    unique = {b.sha256: b for b in baselines}
    return ordered + list(unique.values())


# ---- jobs ----------------------------------------------------------------------------------------
def _seeds(entry, default_seed: int) -> list[int]:
    seeds = entry.get("seeds", 1)
    if isinstance(seeds, int):
        return [default_seed + i for i in range(max(1, seeds))]
    return [int(s) for s in seeds]


def task_overrides(entry, head_options: dict | None = None) -> dict:
    """A suite entry's overrides, with the suite's ``head_options`` put under its head (the entry's own win)."""
    own = dict(entry.get("overrides") or {})
    if not head_options:
        return own
    head = resolve_config(entry["base_config"], own, kind="finetune").model.name
    given = {k.split(".")[-1] for k in own if "." not in k or k.split(".")[-2] == head}  # under any spelling
    out = {f"model.{head}.{key}": value for key, value in head_options.items() if key not in given}
    out.update(own)
    return out


def task_config(entry, overrides: dict) -> tuple[dict, str]:
    """A suite entry's resolved fine-tuning config (with ``overrides``, see ``task_overrides``) and the dotted
    key of its pretrained model."""
    try:
        cfg = resolve_config(entry["base_config"], overrides, kind="finetune").to_dict()
    except ConfigError as e:
        raise ConfigError(f"suite task '{entry['task']}' ({entry['base_config']}): {e}") from None
    head = cfg["model"]["name"]
    if "pretrained_model_name" not in (cfg["model"].get(head) or {}):
        raise ConfigError(
            f"suite task '{entry['task']}': {entry['base_config']} has no "
            f"model.{head}.pretrained_model_name to put the checkpoint in"
        )
    return cfg, f"model.{head}.pretrained_model_name"


def estimate_cost(cfg: dict) -> float:
    """Relative cost: training rows x epochs x sequence length (cheap tasks run first)."""
    dr = cfg["data_reader"]
    rows = dr.get("train_limit") or 100_000
    length = (dr.get(dr["dataset"]) or {}).get("max_seq_length") or 128
    epochs = cfg["trainer"].get("num_epochs") or 1
    return float(rows * epochs * length / 128)


def expand(recipe: Any, checkpoints: list[Checkpoint], name: str | None = None) -> list[dict]:
    """One job spec per (checkpoint, task, seed); the spec is what ``claf.queue.jobs.enqueue`` takes."""
    name = name or recipe_name(recipe)
    notify = _notify(recipe)
    specs = []
    suite = recipe.to_dict()["suite"]
    head_options = suite.get("head_options") or {}
    for entry in suite["tasks"]:
        overrides = task_overrides(entry, head_options)
        cfg, pretrained_key = task_config(entry, overrides)
        cost = float(entry.get("cost") or estimate_cost(cfg))
        for seed in _seeds(entry, int(cfg.get("seed_num", 42))):
            keyed = dict(cfg, seed_num=seed)
            head = keyed["model"]["name"]
            keyed["model"] = dict(keyed["model"], **{head: dict(keyed["model"][head], pretrained_model_name="<ckpt>")})
            keyed["trainer"] = {
                k: v for k, v in keyed["trainer"].items() if k not in ("resume", "progress", "num_threads")
            }
            chash = config_hash(keyed)
            for ck in checkpoints:
                specs.append(
                    {
                        "recipe": name,
                        "benchmark": recipe.benchmark.name,
                        "task": entry["task"],
                        "seed": seed,
                        "config_hash": chash,
                        "checkpoint": ck.name,
                        "checkpoint_sha256": ck.sha256,
                        "model": ck.model,
                        "step": -1 if ck.source.startswith(RANDOM) else ck.step,
                        "cost": cost,
                        "max_attempts": int(recipe.executor.max_attempts),
                        "spec": {
                            "base_config": entry["base_config"],
                            "overrides": dict(overrides, seed_num=seed),
                            "pretrained_key": pretrained_key,
                            "source": ck.source,
                            "url": ck.url,
                            "checkpoint_step": ck.step,
                            "checkpoint_metrics": dict(ck.compute),
                            "notify": notify,
                        },
                    }
                )
    return specs


def _notify(recipe: Any) -> dict | None:
    block = recipe.get("notify") or {}
    if not block.get("enabled", True):
        return None
    channel = (block.get("slack") or {}).get("webhook_env") or "CLAF_SLACK_WEBHOOK_URL"
    if not os.environ.get(channel):  # no webhook configured: nothing to notify
        return None
    return {"channel": channel, "dashboard_url": dashboard_url(recipe)}


def dashboard_url(recipe: Any) -> str | None:
    block = recipe.get("notify") or {}
    if block.get("dashboard_url"):
        return str(block["dashboard_url"])
    server = (recipe.benchmark.get("server") or os.environ.get("CLAF_SERVER_URL") or "").rstrip("/")
    return f"{server}/benchmarks/{recipe.benchmark.name}" if server else None
