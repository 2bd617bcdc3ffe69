"""The files a saved tokenizer consists of (one list for the whole project)."""

import hashlib
from pathlib import Path

from claf.errors import MissingFileError

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)
CORE_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")


def has_tokenizer(folder) -> bool:
    """Whether ``folder`` holds a saved tokenizer (a vocab or a tokenizer.json)."""
    path = Path(str(folder))
    return path.is_dir() and any((path / f).is_file() for f in CORE_FILES)


def tokenizer_files(folder) -> list:
    folder = Path(folder)
    files = [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]
    if not files:
        raise MissingFileError(
            f"{folder}: no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...); "
            f"give a folder saved with tokenizer.save_pretrained"
        )
    return files


def tokenizer_hash(folder) -> str:
    """SHA-256 over the tokenizer's files (names and bytes): the same files give the same hash."""
    digest = hashlib.sha256()
    for file in tokenizer_files(folder):
        digest.update(file.name.encode("utf-8") + b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
