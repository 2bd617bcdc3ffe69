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
        (Path(tmp) / PRETRAIN_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    return folder


def publish_checkpoint(folder, store, keep_archive=True):
    """Pack ``folder`` as ``<name>.tar.gz`` next to it, upload it to ``store``, index it; the index entry."""
    from claf.hub.archive import pack
    from claf.hub.index import register

    folder = Path(folder)
    name = folder.name
    archive = pack(folder, folder.with_name(f"{name}.tar.gz"))
    started = time.perf_counter()
    entry = store.put_file(archive, f"{name}.tar.gz")
    meta_file = folder / PRETRAIN_FILE
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    entry.update(step=meta.get("step"), recipe=meta.get("recipe"), published=time.strftime("%Y-%m-%dT%H:%M:%S"))
    register(store, name, entry)
    logger.info("published %s -> %s (%.1f MB in %.1fs)", name, entry["url"], entry["bytes"] / 2 ** 20,
                time.perf_counter() - started)
    if not keep_archive:
        archive.unlink()
    return dict(entry, name=name)
