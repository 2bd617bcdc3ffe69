"""The recipe's tokenizer: a saved ``transformers`` tokenizer folder, found by path, mirror or hub name.

``tokenizer.name_or_path`` may be a folder (e.g. one written by ``python -m claf vocab build``),
a folder relative to ``$CLAF_DATA_MIRROR`` (``vocab/koelectra``), or anything
``claf.hub.resolve.resolve_pretrained`` accepts (a checkpoint name, URL or archive).
"""

import hashlib
import os
from pathlib import Path

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")


def tokenizer_dir(name_or_path):
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    mirror = os.environ.get("CLAF_DATA_MIRROR")
    if mirror and not path.is_absolute() and (Path(mirror).expanduser() / text).is_dir():
        return Path(mirror).expanduser() / text
    from claf.hub.cache import HubError
    from claf.hub.resolve import resolve_pretrained

    try:
        resolved = Path(resolve_pretrained(text))
    except HubError as exc:
        raise FileNotFoundError(f"tokenizer.name_or_path: {exc}") from None
    if not resolved.is_dir():
        raise FileNotFoundError(f"tokenizer.name_or_path '{text}': no such tokenizer folder (looked as a path, "
                                f"under CLAF_DATA_MIRROR and in the model index); build one with "
                                f"`python -m claf vocab build` or give a saved tokenizer folder")
    return resolved


def tokenizer_files(folder):
    folder = Path(folder)
    files = [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]
    if not files:
        raise FileNotFoundError(f"{folder}: no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...); "
                                f"give a folder saved with tokenizer.save_pretrained")
    return files


def tokenizer_hash(folder):
    """SHA-256 over the tokenizer's files (names and bytes): the same files give the same shards."""
    digest = hashlib.sha256()
    for file in tokenizer_files(folder):
        digest.update(file.name.encode("utf-8") + b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_tokenizer(name_or_path):
    """(fast transformers tokenizer, its folder)."""
    from transformers import AutoTokenizer

    folder = tokenizer_dir(name_or_path)
    tokenizer_files(folder)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{folder}: corpus preparation needs a fast (tokenizers-backed) tokenizer; "
                         f"save one with a tokenizer.json")
    for name in ("cls_token_id", "sep_token_id", "mask_token_id", "pad_token_id"):
        if getattr(tokenizer, name) is None:
            raise ValueError(f"{folder}: the tokenizer has no {name[:-9]} token; pre-training needs "
                             f"[CLS]/[SEP]/[MASK]/[PAD] (or <s>/</s>/<mask>/<pad>)")
    return tokenizer, folder
