"""``model.embedding_init``: PPMI-SVD word vectors from the prepared corpus start the embeddings."""

import json
from collections import Counter

import numpy as np
import pytest
import torch

from claf.config.errors import ConfigError
from claf.experiment import Experiment
from claf.pretrain.embedding_init import apply_vectors, corpus_vectors, pair_counts
from claf.pretrain.holdout import held_documents
from claf.pretrain.prepare import PreparedCorpus
from claf.pretrain.shards import write_shard
from tests.pretrain_support import review_corpus, tiny_recipe


def make_corpus(folder, documents, vocab_size=50, per_shard=2):
    """A prepared corpus folder (shards + manifest); documents: lists of sentences (lists of token ids),
    ``per_shard`` documents to a shard."""
    shards = []
    for i in range(0, len(documents), per_shard):
        docs = documents[i : i + per_shard]
        sentences = [s for d in docs for s in d]
        tokens = [t for s in sentences for t in s]
        write_shard(
            folder / f"shard-{i:05d}",
            tokens,
            [True] * len(tokens),
            [len(s) for s in sentences],
            [len(d) for d in docs],
            vocab_size,
        )
        shards.append({"name": f"shard-{i:05d}"})
    (folder / "manifest.json").write_text(json.dumps({"shards": shards}), encoding="utf-8")
    return PreparedCorpus(folder)


def brute_force(documents, window):
    counts = Counter()
    for doc in documents:
        for sentence in doc:
            for i, a in enumerate(sentence):
                for b in sentence[i + 1 : i + 1 + window]:
                    counts[(a, b)] += 1
                    counts[(b, a)] += 1
    return counts


def as_counter(codes, counts, vocab_size):
    return Counter({(int(c) // vocab_size, int(c) % vocab_size): int(n) for c, n in zip(codes, counts)})


def test_pairs_are_counted_within_sentences_both_ways_and_held_out_documents_are_left_out(tmp_path):
    rng = np.random.default_rng(0)
    documents = [[list(rng.integers(0, 50, rng.integers(1, 9))) for _ in range(3)] for _ in range(8)]
    corpus = make_corpus(tmp_path, documents)
    for window in (1, 3):
        codes, counts = pair_counts(corpus, 50, window)
        assert as_counter(codes, counts, 50) == brute_force(documents, window)
    # holdout_from tail: the last 2 documents are the held-out ones (the last shard's last documents)
    codes, counts = pair_counts(corpus, 50, 2, holdout_documents=2, holdout_from="tail")
    assert as_counter(codes, counts, 50) == brute_force(documents[:6], 2)
    # spread (the default): the documents claf.pretrain.holdout draws, wherever they are, are left out
    held = {2 * s + d for s, ranges in enumerate(held_documents(corpus, 3)) for a, b in ranges for d in range(a, b)}
    assert len(held) == 3 and held != {5, 6, 7}
    codes, counts = pair_counts(corpus, 50, 2, holdout_documents=3)
    assert as_counter(codes, counts, 50) == brute_force([d for i, d in enumerate(documents) if i not in held], 2)
    codes, counts = pair_counts(corpus, 50, 2, max_tokens=sum(len(s) for s in documents[0] + documents[1]))
    assert as_counter(codes, counts, 50) == brute_force(documents[:2], 2)


def test_tokens_used_alike_get_similar_vectors_and_vectors_are_kept(tmp_path):
    """Tokens 1 and 2 both sit between 10 and 11; 3 and 4 between 20 and 21: each pair shares its contexts."""
    rng = np.random.default_rng(1)
    documents = []
    for _ in range(200):
        a, b = rng.choice([1, 2]), rng.choice([3, 4])
        documents.append([[10, int(a), 11, int(rng.integers(30, 50))], [20, int(b), 21, int(rng.integers(30, 50))]])
    corpus = make_corpus(tmp_path, documents, per_shard=50)
    vectors, seen, seconds = corpus_vectors(corpus, 50, 8, window=1)
    assert seconds > 0 and vectors.shape == (50, 8)
    assert seen[[1, 2, 3, 4, 10, 20]].all() and not seen[[0, 5, 9]].any()
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    assert unit[1] @ unit[2] > 0.9 and unit[3] @ unit[4] > 0.9
    assert unit[1] @ unit[2] - unit[1] @ unit[3] > 0.5
    again, seen_again, seconds_again = corpus_vectors(corpus, 50, 8, window=1)  # read from the folder
    assert seconds_again == 0.0 and np.array_equal(again, vectors) and np.array_equal(seen_again, seen)
    assert [p.name for p in (tmp_path / "embedding-init").iterdir()] == ["ppmi_svd-w1-d8-h0-tall.npz"]

    table = torch.nn.Embedding(50, 8)
    before = table.weight.detach().clone()
    apply_vectors(table, vectors, seen, std=0.02)
    after = table.weight.detach()
    assert torch.equal(after[~torch.from_numpy(seen)], before[~torch.from_numpy(seen)])  # unseen rows keep theirs
    assert after[torch.from_numpy(seen)].std().item() == pytest.approx(0.02, rel=1e-3)
    with pytest.raises(ValueError, match="does not fit"):
        apply_vectors(torch.nn.Embedding(50, 4), vectors, seen, std=0.02)


@pytest.mark.slow
def test_a_recipe_starts_from_the_vectors_and_records_their_cost(mirror, hub):
    corpus_file = review_corpus(mirror, hub / "reviews.txt", 800)
    overrides = tiny_recipe(
        "larva-ppmi-test",
        corpus_file,
        hub,
        **{
            "evaluation.holdout_documents": 50,
            "optimizer.learning_rate": 1e-9,  # the published weights are (all but) the initial ones
            "model.embedding_init": {"window": 2},
        },
    )
    summary = Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=overrides)()
    assert json.loads((hub / "run" / "corpus.json").read_text())["embedding_init_seconds"] > 0
    (cached,) = (hub / "prepared").glob("*/embedding-init/ppmi_svd-w2-d32-h50-spread-tall.npz")
    saved = np.load(cached)
    from transformers import AutoModelForPreTraining

    from claf.hub.resolve import resolve_pretrained

    assert summary["published"][0]["name"] == "larva-ppmi-test-2"
    net = AutoModelForPreTraining.from_pretrained(resolve_pretrained("larva-ppmi-test-2"))
    weight = net.get_input_embeddings().weight.detach().numpy()
    seen = saved["seen"]
    expected = saved["vectors"][seen] - saved["vectors"][seen].mean(0)
    correlation = np.corrcoef(weight[: len(seen)][seen].ravel(), expected.ravel())[0, 1]
    assert correlation > 0.999

    overrides["model.pretrained_model_name"] = "larva-ppmi-test-2"
    overrides["trainer.log_dir"] = str(hub / "run2")
    with pytest.raises(ConfigError, match="model.embedding_init"):
        Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=overrides)()
