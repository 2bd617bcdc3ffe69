"""The vocab recipe (``claf vocab build``): a balanced corpus sample, normalisation, the subword model."""

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, model_validator

from claf.config.specs.base import Block, Recipe, check_file
from claf.config.specs.run import PositiveInt

ALGORITHMS = ("wordpiece", "bpe", "byte_bpe", "unigram", "sentencepiece_bpe")  # claf.tokens.vocab_build


class VocabSource(Block):
    name: str | None = None
    files: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    share: Annotated[float, Field(gt=0)] = 1.0  # relative: a source gets share / (sum of shares) of the sample


class VocabCorpusSpec(Block):
    sources: Annotated[list[VocabSource], Field(min_length=1)]
    sentences: PositiveInt | None = None
    min_chars: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 42

    @model_validator(mode="after")
    def _shares_and_files(self, info: ValidationInfo) -> "VocabCorpusSpec":
        for i, source in enumerate(self.sources):
            for j, path in enumerate(source.files):
                check_file(info, "data", f"sources[{i}].files[{j}]", path)
        return self


class NormalizationSpec(Block):
    unicode: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = None
    do_lower_case: bool = False
    strip_accents: bool = False
    morphemes: Literal["mecab_ko", "mecab_ja", "konlpy"] | None = None
    tokenize_chinese_chars: bool = True


class VocabBlock(Block):
    algorithm: Literal[ALGORITHMS] = "wordpiece"  # type: ignore[valid-type]
    vocab_size: Annotated[int, Field(ge=100)]
    min_frequency: PositiveInt = 2
    limit_alphabet: PositiveInt | None = None
    output_dir: str | None = None


class VocabSpec(Recipe):
    corpus: VocabCorpusSpec
    normalization: NormalizationSpec = NormalizationSpec()
    vocab: VocabBlock
