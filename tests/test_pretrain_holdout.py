"""``evaluation.holdout_from``: the held-out documents are drawn over the whole corpus (``spread``), not taken
from the tail of the last file listed (``tail``, the old rule), and training never reads them."""

import numpy as np
import pytest

from claf.errors import UserError
from claf.pretrain.holdout import BLOCK, held_documents, held_tokens
from claf.pretrain.plans import Plan
from claf.pretrain.prepare import prepare_corpus
from claf.pretrain.tokenizer import load_tokenizer
from tests.pretrain_support import review_corpus, tiny_recipe


@pytest.fixture(scope="module")
def two_files(mirror, tmp_path_factory):
    """Reviews (1,500 lines) then a written file (the constitution, 356 lines), prepared into small shards."""
    root = tmp_path_factory.mktemp("holdout")
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        reviews = [next(f) for _ in range(1500)]
    (root / "reviews.txt").write_text("".join(reviews), encoding="utf-8")
    law = (mirror / "corpus" / "ko" / "konlpy" / "kolaw" / "constitution.txt").read_text(encoding="utf-8")
    (root / "law.txt").write_text(law, encoding="utf-8")
    tokenizer, folder = load_tokenizer(mirror / "vocab" / "koelectra")
    files = [str(root / "reviews.txt"), str(root / "law.txt")]
    corpus = prepare_corpus(files, tokenizer, folder, root / "prepared", shard_size_mb=0.01)
    counts = [sum(1 for line in reviews if line.strip()), sum(1 for line in law.splitlines() if line.strip())]
    return corpus, counts


def global_documents(corpus, ranges):
    """Held-out document numbers over the whole corpus (shard by shard, in file order)."""
    offsets = np.cumsum([0] + [s.num_documents for s in corpus.shards])
    return sorted(int(offsets[s]) + d for s, spans in enumerate(ranges) for a, b in spans for d in range(a, b))


def test_spread_draws_the_count_asked_from_every_file_and_tail_only_from_the_last(two_files):
    corpus, (reviews, law) = two_files
    assert len(corpus.shards) > 3 and sum(s.num_documents for s in corpus.shards) == reviews + law
    spread = held_documents(corpus, 300)
    for shard, spans in zip(corpus.shards, spread):
        assert all(0 <= a < b <= shard.num_documents and b - a <= BLOCK for a, b in spans)
        assert all(b1 <= a2 for (_a1, b1), (a2, _b2) in zip(spans, spans[1:]))  # sorted, disjoint
    docs = global_documents(corpus, spread)
    assert len(docs) == len(set(docs)) == 300
    from_reviews = sum(d < reviews for d in docs)
    assert 0 < from_reviews < 300 and len({d * len(corpus.shards) // (reviews + law) for d in docs}) > 2
    assert held_documents(corpus, 300) == spread  # the same documents for every seed and run
    tail = global_documents(corpus, held_documents(corpus, 300, "tail"))
    last = corpus.shards[-1].num_documents
    assert tail == list(range(reviews + law - min(300, last), reviews + law))
    assert all(d >= reviews for d in tail)  # the old rule: only the last file (here, the constitution)


@pytest.mark.parametrize("instance_format", ["sentence_pair", "full_sentence"])
@pytest.mark.parametrize("holdout_from", ["spread", "tail"])
def test_training_never_reads_a_held_out_token_and_evaluation_reads_only_those(
    two_files, instance_format, holdout_from
):
    corpus, _counts = two_files
    every = Plan(corpus, instance_format, 64)
    train = Plan(corpus, instance_format, 64, 200, holdout_from=holdout_from)
    valid = Plan(corpus, instance_format, 64, 200, part="valid", holdout_from=holdout_from)
    assert len(valid) > 20 and len(train) + len(valid) <= len(every) and len(train) > 0.8 * len(every)
    spans = held_documents(corpus, 200, holdout_from)

    def token_spans(plan):
        for i in range(len(plan)):
            s, first, last = int(plan.shard[i]), int(plan.first[i]), int(plan.last[i])
            if instance_format == "sentence_pair":
                sentences = corpus.shards[s].sentences
                first, last = int(sentences[first]), int(sentences[last])
            yield s, first, last

    held = [held_tokens(shard, spans[s]) for s, shard in enumerate(corpus.shards)]
    for s, first, last in token_spans(train):
        starts, ends = held[s]
        assert not np.any((starts < last) & (ends > first))
    for s, first, last in token_spans(valid):
        starts, ends = held[s]
        assert np.any((starts <= first) & (ends >= last))
    if holdout_from == "spread":
        assert len(set(valid.shard.tolist())) > 2
    else:
        assert set(valid.shard.tolist()) == {len(corpus.shards) - 1}


def test_asking_for_more_documents_than_the_corpus_holds_holds_them_all(two_files):
    corpus, (reviews, law) = two_files
    everything = held_documents(corpus, 10**6)
    assert global_documents(corpus, everything) == list(range(reviews + law))
    assert len(Plan(corpus, "full_sentence", 64, 10**6, part="valid")) == len(Plan(corpus, "full_sentence", 64))
    with pytest.raises(UserError, match="evaluation.holdout_documents 1000000 leaves no training instances"):
        Plan(corpus, "full_sentence", 64, 10**6)


def test_a_run_resumes_only_under_the_rule_it_started_with(mirror, tmp_path, monkeypatch):
    import json

    from claf.config.errors import ConfigError
    from claf.experiment import Experiment

    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("CLAF_CACHE", str(tmp_path / "cache"))
    corpus_file = review_corpus(mirror, tmp_path / "reviews.txt", 600)
    recipe = tiny_recipe(
        "larva-holdout-test",
        corpus_file,
        tmp_path,
        **{"trainer.max_steps": 4, "evaluation.holdout_documents": 60, "evaluation.holdout_from": "tail"},
    )
    Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=dict(recipe, **{"trainer.max_steps": 2}))()
    resume = dict(recipe, **{"trainer.resume": True})
    config = tmp_path / "run" / "config.json"
    with pytest.raises(ConfigError, match=r"holdout_from 'tail'; resume it with --evaluation.holdout_from tail"):
        Experiment(
            "pretrain", "pretrain/larva_kor_tiny", overrides=dict(resume, **{"evaluation.holdout_from": "spread"})
        )()
    saved = json.loads(config.read_text(encoding="utf-8"))
    del saved["evaluation"]["holdout_from"]  # a run folder written before the option: it held out the tail
    config.write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(ConfigError, match="config.json: this run held out its documents with holdout_from 'tail'"):
        Experiment(
            "pretrain", "pretrain/larva_kor_tiny", overrides=dict(resume, **{"evaluation.holdout_from": "spread"})
        )()
    summary = Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=resume)()
    assert [p["name"] for p in summary["published"]][-1] == "larva-holdout-test-4"
