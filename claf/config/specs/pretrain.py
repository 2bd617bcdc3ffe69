"""The pre-training recipe (``pretrain.py``): corpus, tokenizer, instances, masking, schedule, model, ...

Cross-block rules live on the root: the schedule's lengths fit the model's positions, the schedule's
batches divide by gradient accumulation, ``copy_share`` needs sentence-pair instances, NSP needs pairs.
"""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator, model_validator

from claf.config.kinds import OFFSET_POSITION_TYPES
from claf.config.specs.base import Block, Recipe, check_file, fail
from claf.config.specs.run import OptimizerSpec, PositiveInt, TrainerSpec

Share = Annotated[float, Field(ge=0, le=1)]
Separator = Literal["line", "blank_line"]
Columns = list[Annotated[int, Field(ge=0)]]
DEFAULT_POSITIONS = 512  # claf.pretrain.model gives a fresh model at least this many positions


class CorpusFile(Block):
    """One ``corpus.files`` entry given as an object: the file and its own options."""

    path: Annotated[str, Field(min_length=1)]
    text_column: Annotated[int, Field(ge=0)] | None = None
    text_columns: Annotated[Columns, Field(min_length=1)] | None = None
    header: bool | None = None
    line_limit: PositiveInt | None = None
    sentence_split: bool | None = None
    document_separator: Separator | None = None
    repeat: PositiveInt = 1

    @model_validator(mode="after")
    def _one_column_key(self) -> "CorpusFile":
        if self.text_column is not None and self.text_columns is not None:
            raise fail("text_columns", "give text_column or text_columns, not both")
        return self


class CorpusExclude(Block):
    """``corpus.exclude``: no document holding a text of this factory suite's rows (``claf.pretrain.exclude``)."""

    suite: Annotated[str, Field(min_length=1)]
    keep: list[Annotated[str, Field(min_length=1)]] = []  # suite files whose text may stay, e.g. NSMC train


class CorpusSpec(Block):
    files: Annotated[list[Annotated[str, Field(min_length=1)] | CorpusFile], Field(min_length=1)]
    document_separator: Separator = "line"
    text_column: Annotated[int, Field(ge=0)] | None = None
    header: bool = False
    line_limit: PositiveInt | None = None
    sentence_split: bool = True
    shard_size_mb: Annotated[float, Field(gt=0)] = 256.0
    prepared_dir: str = "data/pretrain"
    exclude: CorpusExclude | None = None

    @field_validator("exclude", mode="before")
    @classmethod
    def _empty_exclude_is_off(cls, value: Any) -> Any:
        return None if value == {} else value  # ``--corpus.exclude null`` empties the block: no exclusion

    @model_validator(mode="after")
    def _files_exist(self, info: ValidationInfo) -> "CorpusSpec":
        for i, entry in enumerate(self.files):
            check_file(info, "data", f"files[{i}]", entry if isinstance(entry, str) else entry.path)
        return self

    @property
    def file_entries(self) -> list:
        """``files`` as the corpus reader takes them (strings, and dicts of the options an object gave)."""
        return [f if isinstance(f, str) else f.model_dump(exclude_unset=True) for f in self.files]


class TokenizerRef(Block):
    name_or_path: str


class InstancesSpec(Block):
    format: Literal["sentence_pair", "full_sentence"] = "full_sentence"
    order: Literal["shards", "global"] = "shards"
    group_by_length: Annotated[int, Field(ge=0)] = 0  # G global batches per length-sorted window; 0: off
    copy_share: Annotated[float, Field(ge=0, lt=1)] = 0.0
    copy_noise: Share = 0.0  # a copy's tokens replaced: a share drawn in [0, copy_noise], the pair label graded by it
    copy_splice: bool = False  # graded copies unrotated, their replaced tokens one span of another document's text

    @model_validator(mode="after")
    def _copies_need_pairs(self) -> "InstancesSpec":
        if self.copy_share and self.format != "sentence_pair":
            raise fail(
                "copy_share",
                f"{self.copy_share} copies a pair's segment A into B, so it needs instances.format sentence_pair, "
                f"not {self.format}: add --instances.copy_share 0",
            )
        if self.copy_noise and not self.copy_share:
            raise fail(
                "copy_noise",
                f"{self.copy_noise} replaces tokens of copies, and instances.copy_share is 0 (no copies): "
                "add --instances.copy_share 0.3, or --instances.copy_noise 0",
            )
        if self.copy_splice and not self.copy_noise:
            raise fail(
                "copy_splice",
                "splices another document's text into graded copies, and instances.copy_noise is 0: "
                "add --instances.copy_noise 1.0, or --instances.copy_splice false",
            )
        return self


class MaskingSpec(Block):
    strategy: Literal["subword", "space", "ngram"] = "subword"
    mlm_probability: Annotated[float, Field(gt=0, lt=1)] = 0.15
    mask_replace_prob: Share = 0.8
    random_replace_prob: Share = 0.1
    max_ngram: PositiveInt = 3

    @model_validator(mode="after")
    def _replacement_shares(self) -> "MaskingSpec":
        if self.mask_replace_prob + self.random_replace_prob > 1:
            raise fail("random_replace_prob", "mask_replace_prob + random_replace_prob must be within [0, 1]")
        return self


class Phase(Block):
    until_step: PositiveInt | None
    max_seq_length: Annotated[int, Field(ge=8)]
    batch_size: PositiveInt


class NgramShare(Block):
    start: Share = 0.0
    end: Share = 0.0
    start_step: Annotated[int, Field(ge=0)] = 0
    end_step: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _ordered(self) -> "NgramShare":
        if self.end_step < self.start_step:
            raise fail("end_step", f"{self.end_step} is before start_step {self.start_step}")
        return self


PHASES_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "description": "phases [until_step (null: the last one runs on), max_seq_length, batch_size]",
    "items": {
        "type": "array",
        "prefixItems": [
            {"type": ["integer", "null"], "minimum": 1},
            {"type": "integer", "minimum": 8},
            {"type": "integer", "minimum": 1},
        ],
        "minItems": 3,
        "maxItems": 3,
    },
}


class ScheduleSpec(Block):
    """``sequence_length``: phases ``[until_step, max_seq_length, batch_size]``; the last may run on (null)."""

    sequence_length: Annotated[list[Phase], Field(min_length=1), WithJsonSchema(PHASES_SCHEMA)]
    ngram_share: NgramShare = NgramShare()

    @field_validator("sequence_length", mode="before")
    @classmethod
    def _phases(cls, phases: Any) -> Any:
        if not isinstance(phases, (list, tuple)):
            return phases
        out = []
        for i, phase in enumerate(phases):
            if isinstance(phase, (list, tuple)):
                if len(phase) != 3:
                    raise fail(f"[{i}]", "give [until_step, max_seq_length, batch_size]")
                phase = dict(zip(("until_step", "max_seq_length", "batch_size"), phase))
            out.append(phase)
        return out

    @model_validator(mode="after")
    def _increasing(self) -> "ScheduleSpec":
        previous = 0
        for i, phase in enumerate(self.sequence_length):
            if phase.until_step is None and i < len(self.sequence_length) - 1:
                raise fail(f"sequence_length[{i}]", "only the last phase may have until_step null")
            if phase.until_step is not None and phase.until_step <= previous:
                raise fail(f"sequence_length[{i}]", f"until_step {phase.until_step} must be above {previous}")
            previous = phase.until_step or previous
        return self

    @property
    def phases(self) -> list[list]:
        return [[p.until_step, p.max_seq_length, p.batch_size] for p in self.sequence_length]

    @property
    def longest(self) -> int:
        return max(p.max_seq_length for p in self.sequence_length)


class ElectraSpec(Block):
    generator_size: Annotated[float, Field(gt=0, le=1)] = 0.25
    generator_layers: Annotated[float, Field(gt=0, le=1)] = 1.0
    generator: dict[str, Any] | None = None
    share_embeddings: bool = True
    discriminator_weight: Annotated[float, Field(ge=0)] = 50.0
    sampling: Literal["multinomial", "gumbel"] = "multinomial"
    temperature: Annotated[float, Field(gt=0)] = 1.0


class EmbeddingInitSpec(Block):
    """``model.embedding_init``: start the word embeddings from the corpus's PPMI-SVD vectors
    (``claf.pretrain.embedding_init``)."""

    method: Literal["ppmi_svd"] = "ppmi_svd"
    window: Annotated[int, Field(ge=1, le=10)] = 2
    max_tokens: PositiveInt | None = None


class ContrastiveSpec(Block):
    """``model.contrastive``: a sentence-level InfoNCE loss beside masked LM (``claf.pretrain.contrastive``):
    segment A's mean inside the masked pair against the same sentence encoded alone."""

    weight: Annotated[float, Field(gt=0)] = 1.0
    temperature: Annotated[float, Field(gt=0)] = 0.05


class PretrainModelSpec(Block):
    objective: Literal["mlm", "mlm_nsp", "electra"] = "mlm"
    pretrained_model_name: str | None = None
    transformers_config: dict[str, Any] = {}
    electra: ElectraSpec | None = None
    embedding_init: EmbeddingInitSpec | None = None
    contrastive: ContrastiveSpec | None = None

    @property
    def positions(self) -> int | None:
        """Usable positions when the recipe sets them (RoBERTa-style tables are offset by pad id + 1)."""
        value = self.transformers_config.get("max_position_embeddings")
        if value is None or self.pretrained_model_name:
            return None
        offset = 2 if self.transformers_config.get("model_type") in OFFSET_POSITION_TYPES else 0
        return int(value) - offset


class EvaluationSpec(Block):
    holdout_documents: Annotated[int, Field(ge=0)] = 0
    holdout_from: Literal["spread", "tail"] = "spread"  # claf.pretrain.holdout
    num_instances: PositiveInt = 512
    batch_size: PositiveInt = 64


class PretrainTrainerSpec(TrainerSpec):
    """The trainer block of a pre-training recipe: ``max_steps`` is required; epochs and evaluation
    follow the checkpoint interval (set by the runner), so those keys are not the recipe's to give."""

    max_steps: PositiveInt
    # minutes for the whole run on this machine: max_steps becomes the steps that fit (claf.pretrain.budget)
    budget_minutes: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_for_pretraining(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("num_epochs", "eval_and_save_step_count", "metric_key", "metric_mode"):
                if key in data:
                    raise fail(key, "not a pre-training key: checkpoint.save_every_steps sets evaluation and saving")
            if data.get("global_batch_size"):
                raise fail("global_batch_size", "not a pre-training key: schedule.sequence_length's batch_size is")
        return data


class LocalStoreSpec(Block):
    root: str | None = None


class S3StoreSpec(Block):
    bucket: str | None = None
    prefix: str = "larva"
    endpoint_url: str | None = None
    region: str | None = None


class CheckpointSpec(Block):
    save_every_steps: PositiveInt
    store: Literal["local", "s3"] = "local"
    keep_archive: bool = False
    local: LocalStoreSpec = LocalStoreSpec()
    s3: S3StoreSpec = S3StoreSpec()

    @model_validator(mode="after")
    def _bucket(self) -> "CheckpointSpec":
        if self.store == "s3" and not self.s3.bucket:
            raise fail("s3.bucket", "store s3 needs a bucket: give --checkpoint.s3.bucket NAME")
        return self


class PretrainSpec(Recipe):
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    name: Annotated[str, Field(min_length=1)]
    corpus: CorpusSpec
    tokenizer: TokenizerRef
    instances: InstancesSpec
    masking: MaskingSpec
    schedule: ScheduleSpec
    model: PretrainModelSpec
    evaluation: EvaluationSpec = EvaluationSpec()
    trainer: PretrainTrainerSpec
    checkpoint: CheckpointSpec
    optimizer: OptimizerSpec
    seed_num: Annotated[int, Field(ge=0)] = 42
    plugins: list[str] = []
    factory: str | None = None  # a factory recipe: every published checkpoint queues its jobs
    seeds: list[Annotated[int, Field(ge=0)]] | None = None  # one replica per pre-training seed (see replicas())

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # --seeds 42,43,44
            try:
                return [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise fail("", f"give whole numbers separated by commas, e.g. 42,43,44; got '{value}'") from None
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, value: list | None) -> list | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise fail("", f"give distinct seeds (at least one), got {value}")
        return value

    def replicas(self) -> list["PretrainSpec"]:
        """One recipe per pre-training seed: ``<name>-s<seed>`` (its checkpoints ``<name>-s<seed>-<k>k``, the
        replicas of model ``<name>``) in ``<log_dir>/s<seed>``; the recipe itself when it has no ``seeds``."""
        if not self.seeds:
            return [self]
        from claf.config.specs import build_spec

        out = []
        for seed in self.seeds:
            data = self.to_dict()
            data.update(seeds=None, seed_num=seed, name=f"{self.name}-s{seed}")
            data["trainer"] = dict(data["trainer"], log_dir=f"{self.trainer.log_dir.rstrip('/')}/s{seed}")
            out.append(build_spec("pretrain", data, self.source))
        return out

    @model_validator(mode="after")
    def _across_blocks(self) -> "PretrainSpec":
        positions = self.model.positions
        if positions is not None and self.schedule.longest > positions:
            raise fail(
                "schedule.sequence_length",
                f"reaches {self.schedule.longest} tokens but model.transformers_config.max_position_embeddings "
                f"allows {positions}: raise it or shorten the schedule",
            )
        accumulation = self.trainer.gradient_accumulation_steps
        for i, phase in enumerate(self.schedule.sequence_length):
            if phase.batch_size % accumulation:
                raise fail(
                    f"schedule.sequence_length[{i}]",
                    f"batch_size {phase.batch_size} must be divisible by trainer.gradient_accumulation_steps "
                    f"({accumulation})",
                )
        if self.model.objective == "mlm_nsp" and self.instances.format != "sentence_pair":
            raise fail("model.objective", "mlm_nsp predicts the next sentence: it needs instances.format sentence_pair")
        if self.instances.copy_noise and self.model.objective != "mlm_nsp":
            raise fail(
                "instances.copy_noise",
                f"grades the next-sentence label, and model.objective {self.model.objective} has no next-sentence "
                "head: use --model.objective mlm_nsp, or --instances.copy_noise 0",
            )
        if self.model.electra is not None and self.model.objective != "electra":
            raise fail("model.electra", f"options of objective electra, but model.objective is {self.model.objective}")
        if self.model.contrastive is not None and (
            self.model.objective == "electra" or self.instances.format != "sentence_pair"
        ):
            raise fail(
                "model.contrastive",
                "matches segment A of a sentence pair: it needs model.objective mlm or mlm_nsp and "
                f"instances.format sentence_pair (here {self.model.objective}, {self.instances.format})",
            )
        if self.model.embedding_init is not None and self.model.pretrained_model_name:
            raise fail(
                "model.embedding_init",
                "a continued checkpoint (model.pretrained_model_name) keeps its own embeddings: set one of the two",
            )
        return self
