"""Vocab building from a recipe (``base_config/vocab/*.json``): sample, normalise, train, save.

Blocks of a recipe:
  corpus        {sources: [{name, files: [data names], share}], sentences, min_chars, seed}
                sentences are sampled so each source ends up with its share of the total
                (small sources are repeated, large ones sub-sampled);
  normalization {unicode: NFC|NFKC|null, morphemes: null|mecab_ko, tokenize_chinese_chars,
                 do_lower_case, strip_accents};
  vocab         {algorithm: wordpiece|bpe|byte_bpe|unigram|sentencepiece_bpe, vocab_size,
                 min_frequency, limit_alphabet, output_dir (null: <cache>/vocab/<recipe>)}.
The output directory is a tokenizer that ``AutoTokenizer.from_pretrained`` and
``claf.tokens.pipeline.load_tokenizer`` load, plus ``vocab.txt`` for WordPiece and
``claf_vocab.json`` (the recipe and the per-source sentence counts).
"""

import json
import random
import re
import time
from pathlib import Path

from claf.config.errors import ConfigError

ALGORITHMS = {
    "wordpiece": ("wordpiece", {}),
    "bpe": ("bpe", {}),
    "byte_bpe": ("byte_bpe", {}),
    "unigram": ("sentencepiece", {"model_type": "unigram"}),
    "sentencepiece_bpe": ("sentencepiece", {"model_type": "bpe"}),
}
SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


def read_sentences(files, min_chars=1):
    """Non-empty sentences of the data files (lines split after . ! ? 。)."""
    from claf.data.sources import open_text

    sentences = []
    for name in files:
        with open_text(name) as f:
            for line in f:
                for sentence in SENTENCE_END.split(line.strip()):
                    if len(sentence) >= min_chars:
                        sentences.append(sentence)
    return sentences


def sample_corpus(corpus):
    """Balanced sample: [(source name, sentences)], each source getting share x total sentences."""
    from claf.config.defaults import DEFAULTS

    corpus = {**DEFAULTS["vocab"]["corpus"], **corpus}
    sources = corpus.get("sources") or []
    if not sources:
        raise ConfigError("corpus.sources is empty; list sources as {name, files, share}")
    rng = random.Random(corpus["seed"])
    pools = [
        (
            s.get("name", ",".join(s["files"])),
            read_sentences(s["files"], corpus["min_chars"]),
            float(s.get("share", 1.0)),
        )
        for s in sources
    ]
    for name, pool, _share in pools:
        if not pool:
            raise ConfigError(f"corpus source {name} has no sentences; check its files")
    total_share = sum(share for _, _, share in pools)
    total = corpus["sentences"] or sum(len(pool) for _, pool, _ in pools)
    sampled = []
    for name, pool, share in pools:
        want = round(total * share / total_share)
        if want <= len(pool):
            picked = rng.sample(pool, want)
        else:  # a small source is repeated whole, then topped up at random
            picked = pool * (want // len(pool)) + rng.sample(pool, want % len(pool))
        sampled.append((name, picked))
    return sampled


def word_component(normalization):
    from claf.registry import TOKENIZERS

    common = {"do_lower_case": bool(normalization["do_lower_case"]), "unicode_normalization": normalization["unicode"]}
    morphemes = normalization["morphemes"]
    if morphemes:
        if morphemes not in ("mecab_ko", "mecab_ja", "konlpy"):
            raise ConfigError(f"normalization.morphemes is {morphemes}; use mecab_ko, mecab_ja, konlpy or null")
        return TOKENIZERS.get(morphemes)(**common)
    return TOKENIZERS.get("bert_basic")(
        strip_accents=normalization["strip_accents"],
        tokenize_chinese_chars=normalization["tokenize_chinese_chars"],
        **common,
    )


def subword_component(algorithm):
    from claf.registry import TOKENIZERS

    if algorithm not in ALGORITHMS:
        raise ConfigError(f"vocab.algorithm is {algorithm}; use one of {', '.join(ALGORITHMS)}")
    name, options = ALGORITHMS[algorithm]
    return TOKENIZERS.get(name)(**options)


def train_tokenizer(word, subword, texts, vocab_size, min_frequency=2, limit_alphabet=None):
    """Train the subword model on ``texts`` through the word units -> ClafTokenizerFast."""
    from tokenizers import Tokenizer

    from claf.tokens.fast import running_pre_tokenizer
    from claf.tokens.pipeline import compose, pipeline_parts
    from claf.tokens.tokenizers.base import special_list

    backend = Tokenizer(subword.empty_model())
    pipeline_parts(backend, word, subword)
    running = running_pre_tokenizer(backend.pre_tokenizer, word)
    if running is not None:
        backend.pre_tokenizer = running
    trainer = subword.trainer(int(vocab_size), int(min_frequency), limit_alphabet, special_list(subword.specials))
    from claf.progress import bar

    with bar(texts, total=len(texts), desc="training vocab (reading)", unit=" sentences") as sentences:
        backend.train_from_iterator(sentences, trainer, length=len(texts))
    return compose(word, subword, model=backend.model)


def output_dir(recipe_name, vocab):
    from claf.hub.cache import cache_root

    if vocab["output_dir"]:
        return Path(vocab["output_dir"]).expanduser()
    return cache_root() / "vocab" / Path(str(recipe_name)).stem


def build_vocab(config, recipe_name, log=print):
    """Run a resolved recipe; returns the output directory."""
    from claf.atomic import atomic_dir, atomic_write_text

    vocab, corpus, normalization = config["vocab"], config["corpus"], config["normalization"]
    word, subword = word_component(normalization), subword_component(vocab["algorithm"])
    start = time.time()
    sampled = sample_corpus(corpus)
    texts = [t for _, picked in sampled for t in picked]
    random.Random(corpus["seed"]).shuffle(texts)
    counts = {name: len(picked) for name, picked in sampled}
    log(f"sampled {len(texts)} sentences: {counts}")
    tokenizer = train_tokenizer(
        word, subword, texts, vocab["vocab_size"], vocab["min_frequency"], vocab["limit_alphabet"]
    )
    out = output_dir(recipe_name, vocab)
    with atomic_dir(out) as tmp:
        tokenizer.save_pretrained(tmp)
        if subword.name == "wordpiece":  # BertTokenizer(vocab_file=...) users get the plain file too
            ordered = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
            (Path(tmp) / "vocab.txt").write_text("".join(t + "\n" for t, _ in ordered), encoding="utf-8")
        meta = {
            "recipe": config,
            "sentences": counts,
            "vocab_size": len(tokenizer.get_vocab()),
            "seconds": round(time.time() - start, 1),
        }
        atomic_write_text(Path(tmp) / "claf_vocab.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {out} ({meta['vocab_size']} entries, {meta['seconds']} s)")
    return out


def built_vocab(name: str, build: bool = True, log=print) -> Path:
    """The folder of the vocab recipe ``name`` (``vocab/kor_8k_cased``).

    ``build``: reused while its ``claf_vocab.json`` records this recipe, else built (or rebuilt, e.g. after a
    ``vocab build`` with overrides) here. Not ``build``: whatever was built there, or a one-line error."""
    from claf.config import resolve_config

    config = resolve_config(name, kind="vocab").to_dict()
    out = output_dir(name, config["vocab"])
    meta = out / "claf_vocab.json"
    if not build:
        if not meta.is_file():
            raise ConfigError(
                f"{name}: not built yet ({out} missing); run python -m claf vocab build --base_config {name}"
            )
        return out
    if meta.is_file():
        try:
            recorded = json.loads(meta.read_text(encoding="utf-8")).get("recipe")
        except (OSError, ValueError):
            recorded = None
        if recorded == config:
            return out
        log(f"{name}: {out} holds a vocab built from another recipe; rebuilding it from {name}")
    else:
        log(f"{name}: building the vocab into {out} (once; later runs reuse it)")
    return build_vocab(config, name, log=log)
