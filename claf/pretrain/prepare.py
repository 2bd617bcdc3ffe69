"""Corpus preparation, once: source text -> tokenized shards of similar size + a manifest.

The output folder is named by a fingerprint of the tokenizer's files, the corpus files' bytes
and the preparation options, so re-running with the same tokenizer and corpus reuses the
shards and any change (a new vocab, an edited corpus) prepares a new set next to them.
Instance and masking options are not part of it: they change without re-preparing.
"""

import hashlib
import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np

from claf.config.errors import ConfigError
from claf.errors import MissingFileError, UserError
from claf.pretrain.corpus import corpus_sources, source_documents
from claf.pretrain.exclude import suite_keys, without
from claf.pretrain.shards import Shard, write_shard
from claf.progress import bar

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK_DOCS = 4096


class PreparedCorpus:
    """A prepared corpus folder: its manifest and memory-mapped shards."""

    def __init__(self, folder):
        self.folder = Path(folder)
        manifest = self.folder / MANIFEST
        if not manifest.is_file():
            raise MissingFileError(f"{self.folder}: no {MANIFEST}; not a prepared corpus (prepare it first)")
        self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        self.shards = [Shard(self.folder / s["name"]) for s in self.manifest["shards"]]
        self.reused = False

    @property
    def num_tokens(self):
        return sum(s.num_tokens for s in self.shards)

    def report(self):
        return dict(self.manifest["report"], folder=str(self.folder), reused=self.reused)


def fingerprint(tokenizer_sha256, sources, options):
    """``sources``: [(name, sha256, size)] of the corpus files."""
    payload = {
        "format": FORMAT_VERSION,
        "tokenizer": tokenizer_sha256,
        "sources": [list(s) for s in sources],
        "options": options,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def prepare_corpus(
    files,
    tokenizer,
    tokenizer_folder,
    output_dir,
    shard_size_mb=256.0,
    document_separator="line",
    text_column=None,
    header=False,
    line_limit=None,
    sentence_split=True,
    exclude=None,
):
    """Tokenize ``files`` into shards under ``output_dir/<fingerprint>/`` (or reuse them); a PreparedCorpus.

    ``exclude`` (``{"suite": ..., "keep": [...]}``, see ``claf.pretrain.exclude``) drops every document that
    holds a text of the suite's rows."""
    from claf.atomic import atomic_dir
    from claf.data.sources import resolve_data_file
    from claf.hub.cache import sha256_cached
    from claf.tokens.files import tokenizer_hash

    if not files:
        raise ConfigError("corpus.files is empty; list at least one text file")
    if not shard_size_mb or shard_size_mb <= 0:
        raise ConfigError(f"corpus.shard_size_mb must be positive, got {shard_size_mb!r}")
    defaults = {
        "document_separator": document_separator,
        "text_column": text_column,
        "header": bool(header),
        "line_limit": line_limit,
        "sentence_split": bool(sentence_split),
    }
    specs = corpus_sources(files, **defaults)
    names = [spec["path"] for spec in specs]
    paths = [resolve_data_file(n) for n in names]
    sources = [(n, sha256_cached(p), p.stat().st_size) for n, p in zip(names, paths)]
    options = {**defaults, "shard_size_mb": float(shard_size_mb)}
    if any(not isinstance(f, str) for f in files):  # per-file options (plain paths keep their old fingerprint)
        options["files"] = [{k: v for k, v in spec.items() if k != "path"} for spec in specs]
    keys: set = set()
    if exclude:
        keys = suite_keys(exclude["suite"], exclude.get("keep") or ())
        digest = hashlib.sha256(b"".join(sorted(keys))).hexdigest()
        options["exclude"] = {"suite": exclude["suite"], "keep": list(exclude.get("keep") or ()), "texts": digest}
    tokenizer_sha256 = tokenizer_hash(tokenizer_folder)
    key = fingerprint(tokenizer_sha256, sources, options)
    folder = Path(output_dir) / key[:16]
    if (folder / MANIFEST).is_file():
        corpus = PreparedCorpus(folder)
        corpus.reused = True
        logger.info("reusing prepared corpus %s (%d shards, %d tokens)", folder, len(corpus.shards), corpus.num_tokens)
        return corpus

    started = time.perf_counter()
    vocab_size = len(tokenizer)
    target_tokens = max(1, int(shard_size_mb * 2**20 / (2 if vocab_size <= 65536 else 4)))
    with atomic_dir(folder) as tmp:
        writer = _ShardBuffer(Path(tmp), target_tokens, vocab_size)
        dropped = [0]
        for spec, (name, sha, _size), path in zip(specs, sources, paths):
            docs = without(source_documents(dict(spec, path=path), name, seed=sha), keys, dropped)
            with bar(desc=f"preparing {Path(name).name}", unit=" docs") as progress:
                while True:
                    chunk = list(itertools.islice(docs, CHUNK_DOCS))
                    if not chunk:
                        break
                    writer.add(*_tokenize(tokenizer, chunk))
                    progress.update(len(chunk))
        writer.flush()
        if not writer.shards:
            raise UserError(
                f"corpus {', '.join(names)}: no text after tokenization; check corpus.files and corpus.text_column"
            )
        raw = sum(_raw_bytes(p, size, spec["line_limit"]) for spec, (_n, _s, size), p in zip(specs, sources, paths))
        stored = sum(s["bytes"] for s in writer.shards)
        report = {
            "raw_bytes": raw,
            "shard_bytes": stored,
            "shards_vs_raw": round(stored / raw, 4) if raw else None,
            "tokens": sum(s["tokens"] for s in writer.shards),
            "sentences": sum(s["sentences"] for s in writer.shards),
            "documents": sum(s["documents"] for s in writer.shards),
            "num_shards": len(writer.shards),
            "excluded_documents": dropped[0],
            "seconds": round(time.perf_counter() - started, 2),
        }
        manifest = {
            "format": FORMAT_VERSION,
            "fingerprint": key,
            "tokenizer_sha256": tokenizer_sha256,
            "tokenizer_folder": str(tokenizer_folder),
            "vocab_size": vocab_size,
            "sources": [dict(zip(("name", "sha256", "bytes"), s)) for s in sources],
            "options": options,
            "shards": writer.shards,
            "report": report,
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    logger.info(
        "prepared corpus %s: %d shards, %d tokens, %.1f MB (%.2fx the raw %.1f MB) in %.1fs",
        folder,
        report["num_shards"],
        report["tokens"],
        stored / 2**20,
        report["shards_vs_raw"] or 0,
        raw / 2**20,
        report["seconds"],
    )
    return PreparedCorpus(folder)


def _raw_bytes(path, size, line_limit):
    """Bytes of the source text actually used (the first ``line_limit`` lines when limited)."""
    if line_limit is None:
        return size
    used = 0
    with open(path, "rb") as f:
        for _n, line in zip(range(line_limit), f):
            used += len(line)
    return used


def _tokenize(tokenizer, documents):
    """Documents (lists of sentences) -> token ids, word-start flags, sentence lengths, document sizes."""
    sentences = [s.split() for doc in documents for s in doc]
    encodings = tokenizer.backend_tokenizer.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    ids = np.fromiter(itertools.chain.from_iterable(e.ids for e in encodings), dtype=np.int64, count=int(lengths.sum()))
    words = np.fromiter(itertools.chain.from_iterable(e.word_ids for e in encodings), dtype=np.int64, count=len(ids))
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = words[1:] != words[:-1]
    sentence_starts = np.cumsum(lengths) - lengths
    starts[sentence_starts[lengths > 0]] = True  # the first token of a sentence always starts a unit
    doc_sizes = np.array([len(d) for d in documents], dtype=np.int64)
    if (lengths == 0).any():  # sentences that tokenized to nothing: drop them (and emptied documents)
        doc_of = np.repeat(np.arange(len(documents)), doc_sizes)
        doc_sizes = np.bincount(doc_of[lengths > 0], minlength=len(documents))
        lengths = lengths[lengths > 0]
        doc_sizes = doc_sizes[doc_sizes > 0]
    return ids, starts, lengths, doc_sizes


class _ShardBuffer:
    """Collects tokenized documents and writes a shard whenever ``target_tokens`` is reached."""

    def __init__(self, folder, target_tokens, vocab_size):
        self.folder, self.target, self.vocab_size = folder, target_tokens, vocab_size
        self.parts, self.buffered, self.shards = [], 0, []

    def add(self, ids, starts, sentence_lengths, doc_sizes):
        sentence_ends = np.cumsum(doc_sizes)
        token_ends = np.cumsum(sentence_lengths)
        doc_token_ends = token_ends[sentence_ends - 1] if len(doc_sizes) else np.zeros(0, dtype=np.int64)
        first = 0
        while first < len(doc_sizes):
            base = doc_token_ends[first - 1] if first else 0
            crossing = int(np.searchsorted(doc_token_ends, base + self.target - self.buffered, side="left"))
            last = min(crossing + 1, len(doc_sizes))
            s0 = sentence_ends[first - 1] if first else 0
            s1 = sentence_ends[last - 1]
            t1 = doc_token_ends[last - 1]
            self.parts.append((ids[base:t1], starts[base:t1], sentence_lengths[s0:s1], doc_sizes[first:last]))
            self.buffered += int(t1 - base)
            if self.buffered >= self.target:
                self.flush()
            first = last

    def flush(self):
        if not self.parts:
            return
        columns = [np.concatenate(c) for c in zip(*self.parts)]
        name = f"shard-{len(self.shards):05d}"
        self.shards.append(write_shard(self.folder / name, *columns, vocab_size=self.vocab_size))
        self.parts, self.buffered = [], 0
