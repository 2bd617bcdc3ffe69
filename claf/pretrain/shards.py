"""One shard of a prepared corpus: a folder of numpy arrays, read back as memory maps.

    tokens.npy        token ids (uint16 when the vocab has < 65,536 entries, else uint32)
    word_starts.npy   1 bit per token (np.packbits): the token starts a whitespace unit (eojeol)
    sentences.npy     uint32 token offset of each sentence start, plus the end (S + 1 values)
    documents.npy     uint32 sentence offset of each document start, plus the end (D + 1 values)

Special tokens ([CLS], [SEP], ...) are never stored; instances add them when they are built.
"""

from pathlib import Path

import numpy as np

from claf.errors import MissingFileError, UserError

FILES = ("tokens.npy", "word_starts.npy", "sentences.npy", "documents.npy")


def token_dtype(vocab_size):
    return np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32


def write_shard(folder, tokens, word_starts, sentence_lengths, document_sizes, vocab_size):
    """Write one shard. ``sentence_lengths``: tokens per sentence; ``document_sizes``: sentences per document."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = np.asarray(tokens)
    if len(tokens) >= 2**32:
        raise UserError(f"{folder}: a shard holds fewer than 2**32 tokens; lower corpus.shard_size_mb")
    sentences = np.zeros(len(sentence_lengths) + 1, dtype=np.uint32)
    np.cumsum(sentence_lengths, out=sentences[1:])
    documents = np.zeros(len(document_sizes) + 1, dtype=np.uint32)
    np.cumsum(document_sizes, out=documents[1:])
    if sentences[-1] != len(tokens) or documents[-1] != len(sentence_lengths):
        raise UserError(f"{folder}: sentence/document sizes do not add up to the tokens")
    np.save(folder / "tokens.npy", tokens.astype(token_dtype(vocab_size), copy=False))
    np.save(folder / "word_starts.npy", np.packbits(np.asarray(word_starts, dtype=bool)))
    np.save(folder / "sentences.npy", sentences)
    np.save(folder / "documents.npy", documents)
    return {
        "name": folder.name,
        "tokens": int(len(tokens)),
        "sentences": int(len(sentence_lengths)),
        "documents": int(len(document_sizes)),
        "bytes": sum((folder / f).stat().st_size for f in FILES),
    }


class Shard:
    """Read-only view of a shard folder (memory-mapped: opening costs nothing, pages load on use)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        missing = [f for f in FILES if not (self.folder / f).is_file()]
        if missing:
            raise MissingFileError(
                f"{self.folder}: not a complete shard (missing {', '.join(missing)}); "
                f"delete the prepared corpus folder to rebuild it"
            )
        self.tokens = np.load(self.folder / "tokens.npy", mmap_mode="r")
        self._word_bits = np.load(self.folder / "word_starts.npy", mmap_mode="r")
        self.sentences = np.load(self.folder / "sentences.npy", mmap_mode="r")
        self.documents = np.load(self.folder / "documents.npy", mmap_mode="r")
        self._doc_token_starts = None

    @property
    def num_tokens(self):
        return len(self.tokens)

    @property
    def num_sentences(self):
        return len(self.sentences) - 1

    @property
    def num_documents(self):
        return len(self.documents) - 1

    def word_starts(self, start, end):
        """Bool array: token i in [start, end) starts a whitespace unit."""
        bits = np.unpackbits(self._word_bits[start >> 3 : (end + 7) >> 3])
        offset = start & 7
        return bits[offset : offset + end - start].astype(bool)

    @property
    def doc_token_starts(self):
        """Token offset of each document start, plus the end (int64, in memory)."""
        if self._doc_token_starts is None:
            self._doc_token_starts = np.asarray(self.sentences, dtype=np.int64)[np.asarray(self.documents)]
        return self._doc_token_starts

    def sentence_lengths(self):
        return np.diff(np.asarray(self.sentences, dtype=np.int64))

    def document_of_sentences(self):
        """Document index of every sentence."""
        sizes = np.diff(np.asarray(self.documents, dtype=np.int64))
        return np.repeat(np.arange(len(sizes)), sizes)
