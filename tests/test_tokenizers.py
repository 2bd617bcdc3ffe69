"""Each tokenizer on Korean, Japanese and English samples: units, offsets into the original text,
casing switches, jamo round trip, subword round trips, Python pieces saved and re-loaded, and
config options that contradict a checkpoint's tokenizer."""

import json
import unicodedata

import pytest

from claf.config import ConfigError
from claf.tokens.pipeline import build_tokenizer, component, compose, load_tokenizer
from claf.tokens.tokenizers.jamo import compose as jamo_compose
from claf.tokens.tokenizers.jamo import decompose as jamo_decompose
from claf.tokens.vocab_build import train_tokenizer

KO = "아버지가 방에 들어가신다. 안녕하세요, 반갑습니다!"
JA = "今日は良い天気ですね。東京へ行きます。"
EN = "Hello, World! The quick brown fox's jumps."
SAMPLES = (KO, JA, EN)


def units(word_name, text, **options):
    """Word units of ``text`` (a word-level vocab of exactly the sample's units) with their surfaces."""
    word = component({"name": word_name, word_name: options})
    subword = component({"name": "word_level"})
    tokenizer = train_tokenizer(word, subword, list(SAMPLES), vocab_size=1000, min_frequency=1)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert "[UNK]" not in tokens
    return tokens, [text[a:b] for a, b in encoded["offset_mapping"]]


@pytest.mark.parametrize("name", ["char", "space", "bert_basic", "mecab_ko", "mecab_ja"])
@pytest.mark.parametrize("text", SAMPLES, ids=["ko", "ja", "en"])
def test_word_units_are_slices_of_the_original_text(name, text):
    options = {"do_lower_case": False} if name == "bert_basic" else {}
    tokens, surfaces = units(name, text, **options)
    assert tokens == surfaces
    assert "".join(tokens) == "".join(text.split())


def test_word_units_per_language():
    assert units("char", KO)[0][:4] == ["아", "버", "지", "가"]
    assert units("space", KO)[0][:3] == ["아버지가", "방에", "들어가신다."]
    assert units("bert_basic", EN, do_lower_case=False)[0][:4] == ["Hello", ",", "World", "!"]
    assert units("bert_basic", JA, do_lower_case=False)[0][:3] == ["今", "日", "は"]  # CJK ideographs split
    assert units("mecab_ko", KO)[0][:4] == ["아버지", "가", "방", "에"]
    assert units("mecab_ja", JA)[0][:7] == ["今日", "は", "良い", "天気", "です", "ね", "。"]


def test_jamo_units_point_at_their_syllable_and_round_trip():
    tokens, surfaces = units("jamo", KO)
    assert tokens[:6] == ["\u110b", "\u1161", "\u1107", "\u1165", "\u110c", "\u1175"]  # 아 버 -> ㅇ ㅏ ㅂ ㅓ
    assert surfaces[:6] == ["아", "아", "버", "버", "지", "지"]
    for token, surface in zip(tokens, surfaces):
        assert token in unicodedata.normalize("NFD", surface)
    for text in SAMPLES + ("Café 밝다 ㄱㄴ", "값어치 없는 삶 ᄀ"):
        assert jamo_compose(jamo_decompose(text)) == text
    assert jamo_decompose("가") == "\u1100\u1161" and jamo_decompose("é") == "é"  # only Hangul is decomposed
    assert jamo_compose("".join(tokens[:6])) == "아버지"


def normalize(word_name, text, **options):
    return component({"name": word_name, word_name: options}).normalizer().normalize_str(text)


def test_casing_switches_are_separate():
    assert normalize("bert_basic", "Hello 안녕", do_lower_case=False) == "Hello 안녕"
    assert normalize("bert_basic", "Hello 안녕", do_lower_case=True, strip_accents=False) == "hello 안녕"
    # uncased strips accents by default, but never breaks Hangul into jamo (BERT's own normalizer does)
    assert normalize("bert_basic", "Hello 안녕 Café", do_lower_case=True) == "hello 안녕 cafe"
    assert normalize("bert_basic", "Café", do_lower_case=False, strip_accents=True) == "Cafe"
    assert normalize("char", "ABC 안", do_lower_case=True) == "abc 안"
    assert normalize("space", "ｈｅｌｌｏ", unicode_normalization="NFKC") == "hello"
    with pytest.raises(ConfigError, match="unicode_normalization"):
        normalize("space", "x", unicode_normalization="NFX")


def trained(word_name, subword_name, size=300, word_options=None, **subword_options):
    word = component({"name": word_name, word_name: word_options or {}})
    subword = component({"name": subword_name, subword_name: subword_options})
    return train_tokenizer(word, subword, [t for t in SAMPLES for _ in range(3)], vocab_size=size, min_frequency=1)


@pytest.mark.parametrize(
    "subword,options",
    [
        ("bpe", {}),
        ("byte_bpe", {}),
        ("sentencepiece", {"model_type": "unigram"}),
        ("sentencepiece", {"model_type": "bpe"}),
    ],
)
def test_subwords_round_trip_text(subword, options):
    tokenizer = trained("space", subword, **options)
    for text in SAMPLES + ("World!  방에 天気ですね。\n quick",):  # unseen characters would be UNK (but byte-level)
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        assert tokenizer.decode(encoded["input_ids"]).strip() == " ".join(text.split())
        for a, b in encoded["offset_mapping"]:
            assert 0 <= a <= b <= len(text) and text[a:b].strip() == text[a:b]


def test_wordpiece_marks_continuations_and_keeps_offsets():
    tokenizer = trained("bert_basic", "wordpiece", size=120, word_options={"do_lower_case": False})
    encoded = tokenizer(KO, add_special_tokens=False, return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert any(t.startswith("##") for t in tokens)
    for token, (a, b) in zip(tokens, encoded["offset_mapping"]):
        assert token.removeprefix("##") == KO[a:b]


def test_sentencepiece_library_model_loads_with_the_same_pieces(tmp_path):
    import sentencepiece as spm

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SAMPLES * 5) + "\n", encoding="utf-8")
    for model_type in ("unigram", "bpe"):
        prefix = tmp_path / model_type
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(prefix),
            vocab_size=80,
            hard_vocab_limit=False,
            model_type=model_type,
            normalization_rule_name="identity",
            character_coverage=1.0,
            minloglevel=2,
        )
        sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
        tokenizer = compose(
            component({"name": "space"}),
            component(
                {"name": "sentencepiece", "sentencepiece": {"model_type": model_type, "model_path": f"{prefix}.model"}}
            ),
        )
        for text in SAMPLES:
            ours = tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])
            assert ours == sp.encode(text, out_type=str), model_type


def test_python_word_piece_saves_and_reloads(tmp_path, mirror):
    vocab = str(mirror / "vocab" / "koelectra" / "vocab.txt")
    tokenizer = compose(
        component({"name": "mecab_ko"}), component({"name": "wordpiece", "wordpiece": {"vocab_path": vocab}})
    )
    encoded = tokenizer(KO, return_offsets_mapping=True)
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"])[1:3] == ["아버지", "가"]
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["claf_word_tokenizer"]["name"] == "mecab_ko"
    reloaded = load_tokenizer(tmp_path)
    assert reloaded(KO, return_offsets_mapping=True) == encoded
    reloaded.save_pretrained(tmp_path / "again")  # still serialisable after re-attaching
    assert load_tokenizer(tmp_path / "again")(KO)["input_ids"] == encoded["input_ids"]
    from transformers import AutoTokenizer

    plain = AutoTokenizer.from_pretrained(tmp_path)  # loads without claf, with the stand-in word units
    assert plain.tokenize(KO)[0] == "아버지가"


def bert_dir(path, vocab_file, do_lower_case):
    from transformers import BertTokenizer

    from claf.tokens.vocab import read_wordpiece_vocab

    BertTokenizer(vocab=read_wordpiece_vocab(vocab_file), do_lower_case=do_lower_case).save_pretrained(path)
    return path


def token_config(word, subword=None, **options):
    config = {"tokenizer": {"word": {"name": word, word: options}}}
    if subword:
        config["tokenizer"]["subword"] = subword
    return config


def test_options_that_contradict_the_checkpoint_are_errors(tmp_path, mirror):
    vocab = mirror / "vocab" / "koelectra" / "vocab.txt"
    cased = bert_dir(tmp_path / "cased", vocab, do_lower_case=False)
    assert build_tokenizer(token_config("bert_basic", do_lower_case=False), cased).tokenize("영화") == ["영화"]
    assert build_tokenizer(token_config("bert_basic", do_lower_case=None), cased).tokenize("Hi")[0] == "H"
    with pytest.raises(ConfigError, match="do_lower_case"):
        build_tokenizer(token_config("bert_basic", do_lower_case=True), cased)
    with pytest.raises(ConfigError, match="strip_accents"):
        build_tokenizer(token_config("bert_basic", do_lower_case=False, strip_accents=True), cased)
    with pytest.raises(ConfigError, match="char"):
        build_tokenizer(token_config("char"), cased)
    with pytest.raises(ConfigError, match="BPE"):
        build_tokenizer(token_config("bert_basic", {"name": "bpe"}), cased)
    with pytest.raises(ConfigError, match="word tokenizer"):
        build_tokenizer({"tokenizer": {"word": {"name": "wordpiece"}}}, cased)


def test_config_builds_a_tokenizer_when_the_checkpoint_has_none(tmp_path):
    chars = sorted(set("".join("".join(SAMPLES).split())))
    vocab = tmp_path / "chars.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars) + "\n", encoding="utf-8")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    config = token_config("char", {"name": "word_level", "word_level": {"vocab_path": str(vocab)}})
    tokenizer = build_tokenizer(config, model_dir)
    encoded = tokenizer(["방에 X"], ["東京"], truncation=True, max_length=16, return_offsets_mapping=True)
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]) == [
        "[CLS]",
        "방",
        "에",
        "[UNK]",
        "[SEP]",
        "東",
        "京",
        "[SEP]",
    ]
    assert encoded["token_type_ids"][0] == [0, 0, 0, 0, 0, 1, 1, 1] and tokenizer.pad_token_id == 0
    tokenizer.save_pretrained(tmp_path / "saved")
    assert build_tokenizer(token_config("char"), tmp_path / "saved").tokenize("방에") == ["방", "에"]
    with pytest.raises(ConfigError, match="vocab_path is null"):
        build_tokenizer(token_config("char", {"name": "word_level"}), model_dir)


def test_konlpy_is_optional():
    try:
        import konlpy  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install konlpy"):
            component({"name": "konlpy"}).python_pre_tokenizer()
    else:
        pytest.importorskip("jpype")
        assert units("konlpy", KO)[0]
