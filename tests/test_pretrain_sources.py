"""Per-file corpus options: a task's unlabeled sentence pairs next to a plain text corpus."""

import pytest

from claf.config import resolve_config
from claf.config.errors import ConfigError
from claf.pretrain.corpus import CorpusError, corpus_sources
from claf.pretrain.prepare import prepare_corpus
from claf.pretrain.tokenizer import load_tokenizer

PAIRS = 60


@pytest.fixture(scope="module")
def files(mirror, tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    rows, seen = [], set()
    with open(mirror / "kor-nlu" / "KorSTS" / "sts-train.tsv", encoding="utf-8") as f:
        rows.append(next(f))  # the header
        for line in f:  # PAIRS rows with distinct sentence pairs (KorSTS repeats some), so a copy is a repeat's
            pair = tuple(line.rstrip("\n").split("\t")[5:7])
            if pair not in seen:
                seen.add(pair)
                rows.append(line)
            if len(rows) == PAIRS + 1:
                break
    pairs = root / "sts.tsv"
    pairs.write_text("".join(rows), encoding="utf-8")
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        reviews = [next(f) for _ in range(200)]
    text = root / "reviews.txt"
    text.write_text("".join(reviews), encoding="utf-8")
    tokenizer, folder = load_tokenizer(mirror / "vocab" / "koelectra")
    rows = [r.rstrip("\n").split("\t") for r in rows[1:]]
    return {"root": root, "pairs": pairs, "text": text, "rows": rows, "tokenizer": tokenizer, "folder": folder}


def _documents(corpus, tokenizer):
    docs = []
    for shard in corpus.shards:
        for d in range(shard.num_documents):
            sentences = range(int(shard.documents[d]), int(shard.documents[d + 1]))
            docs.append(
                tuple(
                    tokenizer.decode(shard.tokens[int(shard.sentences[s]) : int(shard.sentences[s + 1])].tolist())
                    for s in sentences
                )
            )
    return docs


def _prepare(files, entries, out="prepared", shard_size_mb=0.01):
    return prepare_corpus(
        entries, files["tokenizer"], files["folder"], files["root"] / out, shard_size_mb=shard_size_mb
    )


def test_pair_columns_repeated_in_shuffled_passes(files):
    pair_entry = {"path": str(files["pairs"]), "text_columns": [5, 6], "header": True, "repeat": 3}
    corpus = _prepare(files, [pair_entry, str(files["text"])])
    docs = _documents(corpus, files["tokenizer"])
    tok = files["tokenizer"]
    expected = [(tok.decode(tok(r[5], add_special_tokens=False)["input_ids"]),) for r in files["rows"]]
    pairs = docs[: 3 * PAIRS]
    assert all(len(d) == 2 for d in pairs)  # one document per row, its two columns as two sentences
    assert sorted(d[:1] for d in pairs) == sorted(expected * 3)  # each row three times, the header never
    passes = [[d[0] for d in pairs[i * PAIRS : (i + 1) * PAIRS]] for i in range(3)]
    assert sorted(passes[0]) == sorted(passes[1]) == sorted(passes[2])
    assert passes[0] != passes[1] != passes[2]  # each pass in its own order
    assert all(a != b for a, b in zip(pairs, pairs[1:]))  # no copy sits next to itself
    assert len(docs) - 3 * PAIRS == 200 - sum(1 for line in files["text"].read_text().splitlines() if not line.strip())
    again = _prepare(files, [pair_entry, str(files["text"])])
    assert again.reused and again.folder == corpus.folder
    assert _documents(again, tok) == docs
    fewer = _prepare(files, [dict(pair_entry, repeat=2), str(files["text"])])
    assert fewer.folder != corpus.folder and len(_documents(fewer, tok)) == len(docs) - PAIRS


def test_a_single_column_and_corpus_defaults(files):
    corpus = _prepare(files, [{"path": str(files["pairs"]), "text_column": 6, "header": True}], out="single")
    docs = _documents(corpus, files["tokenizer"])
    tok = files["tokenizer"]
    assert docs == [(tok.decode(tok(r[6], add_special_tokens=False)["input_ids"]),) for r in files["rows"]]
    plain = corpus_sources(["a.txt"], text_column=2, header=True)
    assert plain == [
        {
            "path": "a.txt",
            "document_separator": "line",
            "text_columns": [2],
            "header": True,
            "line_limit": None,
            "sentence_split": True,
            "repeat": 1,
        }
    ]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"path": "a.tsv", "colums": [1]}, "corpus.files[1]: unknown key 'colums'"),
        ({"path": "a.tsv", "repeat": 0}, "corpus.files[1].repeat must be a whole number >= 1"),
        ({"path": "a.tsv", "text_columns": "5,6"}, "corpus.files[1].text_column(s) must be column numbers"),
        ({"path": "a.tsv", "text_column": "document"}, "corpus.files[1].text_column(s) must be column numbers"),
        ({"path": "a.tsv", "text_column": 1, "text_columns": [1]}, "give text_column or text_columns, not both"),
        ({"text_columns": [1]}, 'corpus.files[1]: give a file path, or an object with "path"'),
        (7, 'corpus.files[1]: give a file path, or an object with "path"'),
    ],
)
def test_bad_entries_name_the_entry(entry, message):
    with pytest.raises(CorpusError) as err:
        corpus_sources(["ok.txt", entry])
    assert message in str(err.value)


def test_a_missing_column_names_the_file_and_line(files):
    with pytest.raises(CorpusError) as err:
        _prepare(files, [{"path": str(files["pairs"]), "text_columns": [5, 9], "header": True}], out="bad")
    assert f"{files['pairs']}:2: no column 9 (the row has 7)" in str(err.value)
    assert not list((files["root"] / "bad").glob("*/manifest.json"))  # nothing half-prepared is left to reuse


def test_entries_from_a_frozen_recipe():
    from claf.config.frozen import FrozenConfig

    recipe = FrozenConfig({"files": ["a.txt", {"path": "b.tsv", "text_columns": [0, 1], "repeat": 2}]})
    sources = corpus_sources(list(recipe["files"]))
    assert [s["path"] for s in sources] == ["a.txt", "b.tsv"]
    assert sources[1]["text_columns"] == [0, 1] and sources[1]["repeat"] == 2


def test_global_order_mixes_sources_in_every_batch(files):
    import numpy as np

    from claf.pretrain.plans import Plan

    pair_entry = {"path": str(files["pairs"]), "text_columns": [5, 6], "header": True, "repeat": 3}
    corpus = _prepare(files, [pair_entry, str(files["text"])], shard_size_mb=0.002)
    assert len(corpus.shards) >= 6
    by_shards = Plan(corpus, "sentence_pair", 64)
    mixed = Plan(corpus, "sentence_pair", 64, order="global")
    order = mixed.epoch_order(42, 1)
    assert sorted(order.tolist()) == list(range(len(mixed)))  # every instance once
    assert np.array_equal(order, Plan(corpus, "sentence_pair", 64, order="global").epoch_order(42, 1))
    assert not np.array_equal(order, mixed.epoch_order(42, 2))  # a new order each epoch
    batch = 16
    shards_per_batch = [len(set(mixed.shard[order[i : i + batch]])) for i in range(0, len(order) - batch, batch)]
    local = by_shards.epoch_order(42, 1)
    local_per_batch = [len(set(by_shards.shard[local[i : i + batch]])) for i in range(0, len(local) - batch, batch)]
    assert np.mean(shards_per_batch) > 2 * np.mean(local_per_batch)  # shard order: a batch reads ~1 shard
    with pytest.raises(ConfigError, match='--instances.order "random": expected one of shards or global'):
        resolve_config("pretrain/larva_kor_tiny", {"instances.order": "random"}, kind="pretrain")
