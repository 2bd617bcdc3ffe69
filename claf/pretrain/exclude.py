"""``corpus.exclude``: keep an evaluation suite's text out of a pre-training corpus.

``{"suite": "factory/larva_kor_tiny_wide", "keep": ["nsmc/ratings_train.txt"]}`` reads every task of
the factory recipe ``suite``: its train and validation files and their siblings (the files of the same
folder with the same extension: a task's test file), each with the task's own reader, every text column.
A corpus document is dropped when its text, or one of its sentences, equals one of those rows' texts
after whitespace normalisation. ``keep`` names files whose text may stay (stated in the recipe).
"""

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path


def text_key(text: str) -> bytes:
    """A row's or a sentence's text, whitespace-normalised, as a 16-byte hash."""
    return hashlib.blake2b(" ".join(text.split()).encode("utf-8"), digest_size=16).digest()


def suite_files(suite: str) -> list[tuple[str, dict]]:
    """(data file name, the task's resolved fine-tuning config) of every file of every task in ``suite``."""
    from claf.config import resolve_config
    from claf.data.sources import resolve_data_file

    found: dict[str, dict] = {}
    for task in resolve_config(suite, kind="factory").to_dict()["suite"]["tasks"]:
        cfg = resolve_config(task["base_config"], dict(task.get("overrides") or {}), kind="finetune").to_dict()
        dr = cfg["data_reader"]
        for name in (dr.get("train_file_path"), dr.get("valid_file_path"), *dr["extra_valid_file_paths"].values()):
            if not name:
                continue
            path = resolve_data_file(name)
            for sibling in sorted(path.parent.glob(f"*{path.suffix}")):
                found.setdefault(str(Path(name).parent / sibling.name), cfg)
    return sorted(found.items())


def file_texts(name: str, cfg: dict) -> Iterator[str]:
    """Every text of every row of one data file, read by the task's reader (``split`` off: all rows)."""
    from claf.data.sources import resolve_data_file
    from claf.registry import READERS

    dr = cfg["data_reader"]
    options = {k: v for k, v in dict(dr.get(dr["dataset"]) or {}).items() if k != "split"}
    reader = READERS.get(dr["dataset"])(**options)
    for example in reader.read(resolve_data_file(name)):
        yield example["text"]
        if example.get("text_pair"):
            yield example["text_pair"]


def suite_keys(suite: str, keep: Iterable[str] = ()) -> set[bytes]:
    """The text keys of every row of ``suite``'s files but those in ``keep``."""
    kept = set(keep)
    return {text_key(t) for name, cfg in suite_files(suite) if name not in kept for t in file_texts(name, cfg)}


def excluded(document: list[str], keys: set[bytes]) -> bool:
    """Whether a document (its sentences) holds a suite text: as a whole or as one of its sentences."""
    return text_key(" ".join(document)) in keys or any(text_key(s) in keys for s in document)


def without(documents: Iterable[list[str]], keys: set[bytes], dropped: list[int]) -> Iterator[list[str]]:
    """``documents`` but the excluded ones; ``dropped[0]`` counts those left out."""
    for document in documents:
        if keys and excluded(document, keys):
            dropped[0] += 1
            continue
        yield document
