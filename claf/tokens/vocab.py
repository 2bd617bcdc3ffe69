"""Vocabulary files."""

from pathlib import Path

from claf.errors import UserError


def read_wordpiece_vocab(path):
    """A WordPiece ``vocab.txt`` (one token per line) -> {token: id}."""
    path = Path(path)
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            token = line.rstrip("\n")
            if token and token not in vocab:
                vocab[token] = len(vocab)
    if not vocab:
        raise UserError(f"{path}: empty vocab file; give a vocab.txt with one token per line")
    return vocab
