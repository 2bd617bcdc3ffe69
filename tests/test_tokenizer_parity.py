"""bert_basic + wordpiece give exactly BertTokenizerFast's tokens and offsets on every KorQuAD dev
paragraph and every SST-2 dev sentence with the cased KoELECTRA vocab, and on the English sentences with
the uncased MiniLM vocab (on Korean text BERT's uncased normalizer breaks Hangul into jamo; ours never does)."""

import pytest

from claf.tokens.pipeline import component, compose
from claf.tokens.vocab import read_wordpiece_vocab
from claf.tokens.vocab_bench import korquad_paragraphs


def sst2_dev_sentences(mirror):
    lines = (mirror / "glue" / "SST-2" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[1] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def texts(mirror):
    paragraphs, sentences = korquad_paragraphs(), sst2_dev_sentences(mirror)
    assert len(paragraphs) > 900 and len(sentences) > 800
    return {"all": paragraphs + sentences, "english": sentences}


@pytest.mark.parametrize("vocab,do_lower_case", [("koelectra", False), ("minilm", True)])
def test_bert_basic_wordpiece_matches_bert_tokenizer_fast(vocab, do_lower_case, texts, mirror, minilm_path):
    from transformers import BertTokenizerFast

    vocab_file = (mirror / "vocab" / "koelectra" if vocab == "koelectra" else minilm_path) / "vocab.txt"
    ours = compose(
        component({"name": "bert_basic", "bert_basic": {"do_lower_case": do_lower_case}}),
        component({"name": "wordpiece", "wordpiece": {"vocab_path": str(vocab_file)}}),
    )
    reference = BertTokenizerFast(vocab=read_wordpiece_vocab(vocab_file), do_lower_case=do_lower_case)
    texts = texts["english" if do_lower_case else "all"]
    mine = ours(texts, return_offsets_mapping=True, verbose=False)
    theirs = reference(texts, return_offsets_mapping=True, verbose=False)
    assert mine["input_ids"] == theirs["input_ids"]
    assert mine["offset_mapping"] == theirs["offset_mapping"]
    assert mine["token_type_ids"] == theirs["token_type_ids"]
    unk = ours.unk_token_id
    assert sum(ids.count(unk) for ids in mine["input_ids"]) < 0.1 * sum(map(len, mine["input_ids"]))
