"""The general recipe's corpus holds no text of any row of the factory suite's files (issue 25).

Every task of ``factory/larva_kor_tiny_wide`` (the default suite plus the dev-split tasks) (its train and validation files and their sibling test
files, every text column, read by the task's own reader) against every document and every sentence the
recipe would tokenize, after whitespace normalisation. NSMC train is the one file the recipe keeps (the
movie reviews are its domain): its share in the corpus is measured and printed, NSMC test must be zero.
"""

import pytest
from conftest import MIRROR

from claf.config import resolve_config
from claf.data.sources import resolve_data_file
from claf.pretrain.corpus import corpus_sources, source_documents
from claf.pretrain.exclude import file_texts, suite_files, suite_keys, text_key, without

pytestmark = pytest.mark.skipif(
    not (MIRROR / "corpus" / "ko" / "nsmc_raw_reviews.txt").is_file(), reason=f"no data mirror at {MIRROR}"
)
SUITE_TASKS = {"nsmc", "qp", "korsts", "kornli", "pawsx_split", "klue_nli_split", "klue_sts_split"}


def corpus_keys(recipe, exclude=True):
    """The text keys of every document (whole) and every sentence the recipe prepares, and how many were dropped."""
    cfg = resolve_config(recipe, kind="pretrain")
    c = cfg.corpus
    specs = corpus_sources(
        c.file_entries,
        document_separator=c.document_separator,
        text_column=c.text_column,
        header=c.header,
        line_limit=c.line_limit,
        sentence_split=c.sentence_split,
    )
    keys = suite_keys(c.exclude.suite, c.exclude.keep) if exclude else set()
    found, dropped = set(), [0]
    for spec in specs:
        docs = source_documents(dict(spec, repeat=1, path=resolve_data_file(spec["path"])), spec["path"])
        for document in without(docs, keys, dropped):
            found.add(text_key(" ".join(document)))
            found.update(text_key(s) for s in document)
    return found, dropped[0]


@pytest.fixture(scope="module")
def general():
    return resolve_config("pretrain/larva_kor_tiny", kind="pretrain"), corpus_keys("pretrain/larva_kor_tiny")


def test_the_exclusion_covers_every_suite_task_and_its_test_files(general):
    cfg, _ = general
    suite = resolve_config(cfg.corpus.exclude.suite, kind="factory")
    assert {t.task for t in suite.suite.tasks} == SUITE_TASKS
    names = {name for name, _cfg in suite_files(cfg.corpus.exclude.suite)}
    assert {
        "question_pair/test.txt",
        "kor-nlu/KorSTS/sts-test.tsv",
        "kor-nlu/KorNLI/xnli.dev.ko.tsv",
        "pawsx_ko/dev_2k.tsv",
        "klue/klue-nli-v1.1/klue-nli-v1.1_dev.json",
        "klue/klue-sts-v1.1/klue-sts-v1.1_dev.json",
        "nsmc/ratings_test.txt",
    } <= names
    assert cfg.corpus.exclude.keep == ["nsmc/ratings_train.txt"]
    assert not any("question_pair" in str(f) or "kor-nlu" in str(f) for f in cfg.corpus.file_entries)


def test_no_suite_row_is_in_the_general_corpus(general, capsys):
    cfg, (found, dropped) = general
    assert dropped > 0  # the raw reviews do hold suite texts ("굳 ㅋ" is an NSMC test review): they are dropped
    shares = {}
    for name, task_cfg in suite_files(cfg.corpus.exclude.suite):
        texts = {text_key(t) for t in file_texts(name, task_cfg)}
        inside = len(texts & found)
        shares[name] = (inside, len(texts))
        if name not in cfg.corpus.exclude.keep:
            assert inside == 0, f"{name}: {inside} of its texts are in the general corpus"
    inside, total = shares["nsmc/ratings_train.txt"]
    assert shares["nsmc/ratings_test.txt"][0] == 0 and 0.5 < inside / total < 1
    with capsys.disabled():
        print(
            f"\nNSMC train reviews in the general corpus: {inside:,} of {total:,} distinct texts "
            f"({100 * inside / total:.1f}%); NSMC test: 0 of {shares['nsmc/ratings_test.txt'][1]:,}; "
            f"{dropped:,} corpus documents dropped"
        )


def test_the_tapt_recipe_is_the_one_that_reads_the_suite():
    tapt = resolve_config("pretrain/larva_kor_tiny_tapt", kind="pretrain")
    paths = [f if isinstance(f, str) else f["path"] for f in tapt.corpus.file_entries]
    assert tapt.name == "larva-kor-tiny-tapt" and tapt.corpus.exclude is None
    assert {"kor-nlu/KorSTS/sts-train.tsv", "question_pair/train.txt", "kor-nlu/KorNLI/xnli.test.ko.tsv"} <= set(paths)
    assert tapt.instances.copy_share == 0.3
    general = resolve_config("pretrain/larva_kor_tiny", kind="pretrain").to_dict()
    same = resolve_config("pretrain/larva_kor_tiny_tapt", kind="pretrain").to_dict()
    for block in ("model", "schedule", "masking", "instances", "optimizer", "tokenizer", "evaluation", "checkpoint"):
        assert general[block] == same[block], block  # only the corpus differs
    assert general["trainer"]["max_steps"] == same["trainer"]["max_steps"]
