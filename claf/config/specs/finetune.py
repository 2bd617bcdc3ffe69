"""The fine-tuning recipe (``train.py``): reader, iterator, tokenizer, model, trainer, optimizer."""

from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from claf.config.specs.base import Block, Recipe, check_file, fail
from claf.config.specs.options import check_chosen
from claf.config.specs.run import OptimizerSpec, PositiveInt, TrainerSpec


class Chosen(Block):
    """A ``{"name": X, X: {...options}}`` block whose options are component X's."""

    model_config = ConfigDict(frozen=True, extra="allow")
    _registry = ""
    _selector = "name"

    def _check_chosen(self, info: ValidationInfo, prefix: str = "") -> None:
        """``prefix``: this block's key relative to the validator that asks (e.g. ``subword.``)."""
        import claf.registry as registries
        from claf.registry import RegistryError

        name = getattr(self, self._selector)
        try:
            getattr(registries, self._registry).get(name)
        except RegistryError as e:
            raise fail(prefix + self._selector, str(e)) from None
        for key in self.__pydantic_extra__ or {}:  # another registered component's block stays (inactive)
            if key != name and key not in getattr(registries, self._registry):
                raise fail(
                    prefix + key, f"unknown key; the options block here is named after {self._selector} ({name})"
                )
        check_chosen(self, self._registry, name, prefix + name, prefix + self._selector, info)

    @property
    def options(self) -> dict:
        """The chosen component's options (a plain, mutable copy)."""
        return self._options_of(getattr(self, self._selector))


class DataReaderSpec(Chosen):
    """``data_reader``: ``dataset`` names the reader; its options are ``data_reader.<dataset>``."""

    _registry = "READERS"
    _selector = "dataset"
    dataset: str
    train_file_path: str | None = None
    valid_file_path: str | None = None
    train_limit: PositiveInt | None = None
    valid_limit: PositiveInt | None = None
    extra_valid_file_paths: dict[str, str] = {}

    @model_validator(mode="after")
    def _reader(self, info: ValidationInfo) -> "DataReaderSpec":
        self._check_chosen(info)
        check_file(info, "data", "train_file_path", self.train_file_path)
        check_file(info, "data", "valid_file_path", self.valid_file_path)
        for name, path in self.extra_valid_file_paths.items():
            check_file(info, "data", f"extra_valid_file_paths.{name}", path)
        return self


class IteratorSpec(Block):
    batch_size: PositiveInt
    eval_batch_size: PositiveInt | None = None
    group_by_length: bool = True

    @property
    def valid_batch_size(self) -> int:
        return self.eval_batch_size or self.batch_size


class TokenizerPart(Chosen):
    """``token.tokenizer.word`` or ``.subword``: a registered tokenizer and its options."""

    _registry = "TOKENIZERS"
    name: str


class TokenizerSpec(Block):
    word: TokenizerPart | None = None
    subword: TokenizerPart | None = None

    @model_validator(mode="after")
    def _parts(self, info: ValidationInfo) -> "TokenizerSpec":
        from claf.registry import TOKENIZERS, RegistryError

        for level in ("word", "subword"):
            part = getattr(self, level)
            if part is None:
                continue
            try:
                component = TOKENIZERS.get(part.name)
            except RegistryError as e:
                raise fail(f"{level}.name", str(e)) from None
            if getattr(component, "level", level) != level:
                others = [n for n in TOKENIZERS.names() if getattr(TOKENIZERS.get(n), "level", None) == level]
                raise fail(
                    f"{level}.name", f"{part.name} is a {component.level} tokenizer; pick one of {', '.join(others)}"
                )
            part._check_chosen(info, f"{level}.")
        return self


class IndexerSpec(Block):
    name: str = "bert"


class TokenSpec(Block):
    tokenizer: TokenizerSpec = TokenizerSpec()
    indexer: IndexerSpec = IndexerSpec()


class ModelSpec(Chosen):
    """``model``: ``name`` picks the task head; ``model.<name>`` holds its options (with the checkpoint)."""

    _registry = "MODELS"
    name: str

    @model_validator(mode="after")
    def _head(self, info: ValidationInfo) -> "ModelSpec":
        self._check_chosen(info)
        if not self.options.get("pretrained_model_name"):
            raise fail(f"{self.name}.pretrained_model_name", "required: a checkpoint name, folder or URL to start from")
        return self

    @property
    def pretrained_model_name(self) -> str:
        return self.options["pretrained_model_name"]


class FinetuneSpec(Recipe):
    """A fine-tuning recipe, validated once; ``to_dict()`` is the resolved config that config.json records."""

    data_reader: DataReaderSpec
    iterator: IteratorSpec
    token: TokenSpec = TokenSpec()
    model: ModelSpec
    trainer: TrainerSpec
    optimizer: OptimizerSpec
    seed_num: Annotated[int, Field(ge=0)] = 42
    plugins: list[str] = []
    resolved_checkpoint: dict[str, Any] | None = None  # written into a run's config.json: the weights it loaded
    benchmark: dict[str, Any] | None = None  # what the results server cannot infer (claf.results)
