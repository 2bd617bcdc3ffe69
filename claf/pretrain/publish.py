"""Checkpoints every ``save_every_steps``: save_pretrained + tokenizer -> ``<run>-<k>k.tar.gz`` -> a store.

larva-kor-tiny-2k/             config.json, model.safetensors, tokenizer files, claf_pretrain.json
larva-kor-tiny-2k.tar.gz       the folder packed (claf.hub.archive.pack)
<store>/larva-kor-tiny-2k.tar.gz (+ .sha256), and the name in the store's and the local model index
"""

import json
import logging
import time
from pathlib import Path

from claf.atomic import atomic_dir

logger = logging.getLogger(__name__)

PRETRAIN_FILE = "claf_pretrain.json"


def checkpoint_name(run_name, step):
    """``larva-kor-tiny``, 2000 -> ``larva-kor-tiny-2k``; 1250 -> ``-1.25k``; below 1k the step: 500 -> ``-500``."""
    if step < 1000:
        return f"{run_name}-{int(step)}"
    return f"{run_name}-{step / 1000:g}k"


def export_checkpoint(net, tokenizer, folder, meta):
    """Write a loadable checkpoint folder (atomically)."""
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        net.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (Path(tmp) / PRETRAIN_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def compute_figures(history, step, threads, processes=1, device="cpu"):
    """What pre-training cost up to ``step``: ``pretrain_seconds`` (the training time the metrics history
    records, evaluation excluded) and ``pretrain_cpu_seconds`` (x threads x processes; on a GPU
    ``pretrain_gpu_seconds``, x processes). {} when the history holds no training time (no held-out evaluation)."""
    seconds = sum(float(h.get("train_time") or 0.0) for h in history if int(h.get("global_step") or 0) <= step)
    if seconds <= 0:
        return {}
    out = {"pretrain_seconds": round(seconds, 3)}
    if device == "cpu":
        out["pretrain_cpu_seconds"] = round(seconds * threads * processes, 3)
    else:
        out["pretrain_gpu_seconds"] = round(seconds * processes, 3)
    return out


def published_entry(store, name):
    """The store index's entry for ``name``, or None."""
    from claf.hub.index import INDEX_KEY, parse

    return parse(store.read_text(INDEX_KEY), store.url(INDEX_KEY)).get(name)


def check_unpublished(store, names, overwrite=False):
    """Before a fresh run trains: none of the names it will publish may be taken in ``store``."""
    from claf.hub.cache import HubError
    from claf.hub.index import INDEX_KEY

    if overwrite:
        return
    taken = [name for name in names if published_entry(store, name)]
    if taken:
        raise HubError(
            f"checkpoint {taken[0]} is already published in {store.url(INDEX_KEY)} (by an earlier run): "
            "give the recipe another --name, or --trainer.overwrite true to replace it"
        )


def publish_checkpoint(folder, store, keep_archive=True, overwrite=False, compute=None):
    """Pack ``folder`` as ``<name>.tar.gz`` next to it, upload it to ``store``, index it; the index entry
    (with ``compute``, the figures of ``compute_figures``, when given).

    A name already published with another checksum is refused unless ``overwrite``."""
    from claf.hub.archive import pack
    from claf.hub.cache import HubError, sha256_file
    from claf.hub.index import INDEX_KEY, register, replica_fields

    folder = Path(folder)
    name = folder.name
    archive = pack(folder, folder.with_name(f"{name}.tar.gz"))
    existing = published_entry(store, name)
    if existing and not overwrite and (existing.get("sha256") or "").lower() != sha256_file(archive):
        raise HubError(
            f"checkpoint {name} is already published in {store.url(INDEX_KEY)} with another checksum; "
            f"it stays unpublished in {folder}: give the recipe another --name, or --trainer.overwrite "
            "true to replace it"
        )
    started = time.perf_counter()
    entry = store.put_file(archive, f"{name}.tar.gz")
    meta_file = folder / PRETRAIN_FILE
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    entry.update(step=meta.get("step"), recipe=meta.get("recipe"), published=time.strftime("%Y-%m-%dT%H:%M:%S"))
    entry.update(replica_fields(meta.get("config") or {}))  # the model family and pre-training seed
    if compute:
        entry["compute"] = dict(compute)
    register(store, name, entry)
    logger.info(
        "published %s -> %s (%.1f MB in %.1fs)",
        name,
        entry["url"],
        entry["bytes"] / 2**20,
        time.perf_counter() - started,
    )
    if not keep_archive:
        archive.unlink()
    return dict(entry, name=name)
