"""A task model: a transformers Auto* model plus the task's decoding and metadata.

A saved model is a ``save_pretrained`` directory plus its tokenizer and ``claf_task.json``
(what the reader and head need to serve raw input again), so ``AutoModel.from_pretrained``
loads it and ``predict.py`` serves it.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import torch
from pydantic import Field

from claf.atomic import atomic_dir
from claf.config.errors import ConfigError
from claf.models.task_file import TASK_FILE, task_meta, write_task_file

OUTPUT_LAYERS = ("classifier", "qa_outputs")  # the task layer of transformers' *For* heads


def full_precision_output(module: torch.nn.Module) -> None:
    """Run ``module`` in fp32 even under bf16/fp16 autocast: its outputs are the predictions. A bf16
    regression score has 8 significant bits (every KorSTS prediction rounded to one value, 2.84375),
    and logits lose ties the same way. Weights and state-dict keys are unchanged."""
    inner = module.forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        device = next((a.device.type for a in args if torch.is_tensor(a)), "cpu")
        if not torch.is_autocast_enabled(device):
            return inner(*args, **kwargs)
        with torch.autocast(device, enabled=False):
            return inner(*(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args), **kwargs)

    module.forward = forward  # type: ignore[method-assign]


def model_inputs(config: Any, keys: Iterable[str]) -> tuple:
    """``keys`` less ``token_type_ids`` where the model has one segment embedding (RoBERTa-style
    ``type_vocab_size`` 1): a pair's second segment would index past it."""
    keep_types = getattr(config, "type_vocab_size", 2) > 1
    return tuple(k for k in keys if keep_types or k != "token_type_ids")


def redraw_top(net: Any, pooler: bool, layers: int) -> None:
    """Draw the pre-trained pooler and the top ``layers`` encoder layers afresh, as the architecture inits
    them: linear weights normal(0, ``initializer_range``), biases 0, norms 1 and 0. For few-example
    fine-tuning, where a pre-trained ``[CLS]`` pooler (trained on NSP) can sit in tanh's flat tails. Uses
    the global RNG, so the fine-tuning seed decides the draw. A model without a pooler (RoBERTa's and
    ELECTRA's heads are new already) skips ``pooler``."""
    if not pooler and not layers:
        return
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 0:
        raise ConfigError(f"reinit_layers is {layers!r}: give a count of top encoder layers, 0 or more")
    base = net.base_model
    stack = getattr(getattr(base, "encoder", None), "layer", None)
    top: list = []
    if layers:
        if not isinstance(stack, torch.nn.ModuleList):
            raise ConfigError(f"reinit_layers {layers}: {type(base).__name__} has no encoder.layer stack; set it to 0")
        if layers > len(stack):
            raise ConfigError(
                f"reinit_layers {layers}: the checkpoint has {len(stack)} encoder layers; give at most that"
            )
        top = list(stack)[len(stack) - layers :]
    modules = ([base.pooler] if pooler and getattr(base, "pooler", None) is not None else []) + top
    std = getattr(net.config, "initializer_range", 0.02)
    with torch.no_grad():
        for module in (m for part in modules for m in part.modules()):
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, torch.nn.LayerNorm) or "LayerNorm" in type(module).__name__:
                if getattr(module, "weight", None) is not None:
                    module.weight.fill_(1.0)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()


DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob")  # BERT, RoBERTa, ELECTRA configs
Dropout = Annotated[float, Field(ge=0, lt=1)]  # a head's encoder_dropout: the config checks it before any model loads


def head_kwargs(dropout: float | None, labels: list | None = None) -> dict:
    """The transformers config keys of a classification head: its labels (when it has them) and the dropout
    before its classifier (when given)."""
    out: dict = {"classifier_dropout": dropout} if dropout is not None else {}
    if labels is not None:
        out.update(
            num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)}
        )
    return out


def dropout_kwargs(model_dir: str | Path, p: float) -> dict:
    """The config keys that set the encoder's dropout to ``p`` while fine-tuning. A checkpoint pre-trained
    without dropout (Cramming; the tiny recipes) otherwise passes its 0 on to every task."""
    import transformers

    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ConfigError(
            f"encoder_dropout is {p!r}: give a probability in [0, 1), e.g. 0.1, or null to keep the checkpoint's"
        )
    config = transformers.AutoConfig.from_pretrained(str(model_dir))
    if not all(hasattr(config, k) for k in DROPOUT_KEYS):
        raise ConfigError(
            f"encoder_dropout: a {config.model_type} config has no {' / '.join(DROPOUT_KEYS)}; leave encoder_dropout null"
        )
    return {k: float(p) for k in DROPOUT_KEYS}


class TaskModel(torch.nn.Module):
    auto_class: str = ""  # name of a transformers Auto class, e.g. "AutoModelForSequenceClassification"
    input_keys = ("input_ids", "token_type_ids", "attention_mask")
    label_keys = ()

    def __init__(
        self,
        pretrained_model_name: str | Path,
        reinit_pooler: bool = False,
        reinit_layers: int = 0,
        encoder_dropout: float | None = None,
        **hf_kwargs: Any,
    ) -> None:
        super().__init__()
        import transformers

        if encoder_dropout is not None:
            hf_kwargs.update(dropout_kwargs(pretrained_model_name, encoder_dropout))
        auto = getattr(transformers, self.auto_class)
        self.net = auto.from_pretrained(str(pretrained_model_name), **hf_kwargs)
        redraw_top(self.net, reinit_pooler, reinit_layers)
        for name in OUTPUT_LAYERS:
            if isinstance(getattr(self.net, name, None), torch.nn.Module):
                full_precision_output(getattr(self.net, name))
        self.keys = model_inputs(self.net.config, self.input_keys + self.label_keys)

    def forward(self, batch: dict) -> Any:
        return self.net(**{k: v for k, v in batch.items() if k in self.keys})

    def options(self) -> dict:
        """Keyword arguments that rebuild this head from a saved checkpoint."""
        return {}

    def save(
        self,
        path: str | Path,
        tokenizer: Any,
        reader_name: str,
        reader_options: dict,
        model_name: str,
        plugins: Iterable[str] = (),
    ) -> None:
        """``save_pretrained`` + tokenizer + ``claf_task.json``, written atomically."""
        with atomic_dir(path) as tmp:
            self.net.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            write_task_file(tmp, task_meta(model_name, self.options(), reader_name, reader_options, plugins))

    def present(self, example: dict, prediction: Any) -> dict:
        """One prediction as the user sees it (a label, a score, entities, an answer span)."""
        raise NotImplementedError

    # Evaluation: per-feature results -> per-example predictions -> metric inputs.
    def feature_results(self, outputs: Any, batch: dict) -> Any:
        raise NotImplementedError

    def predictions(self, examples: list[dict], features: list[dict], results: Any) -> Any:
        raise NotImplementedError

    def references(self, examples: list[dict]) -> list:
        raise NotImplementedError


__all__ = ["TASK_FILE", "TaskModel"]


def check_max_length(data_reader: Any, model_dir: str | Path, model_key: str, model_name: str | None = None) -> None:
    """Fail before training when a reader's ``max_seq_length`` exceeds the checkpoint's positions.

    ``data_reader`` is the config block (every ``max_seq_length`` in it is checked, multi-task included);
    ``model_key`` names the checkpoint setting, e.g. ``model.bert_for_qa.pretrained_model_name``.
    """
    import transformers

    from claf.config import ConfigError
    from claf.config.kinds import OFFSET_POSITION_TYPES

    try:
        config = transformers.AutoConfig.from_pretrained(str(model_dir))
    except (OSError, ValueError):
        return  # not loadable as a config here: the model load reports it
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return
    if config.model_type in OFFSET_POSITION_TYPES:
        positions -= (config.pad_token_id or 0) + 1  # positions are numbered from pad_token_id + 1
    for key, length in _max_lengths(data_reader, "data_reader"):
        if isinstance(length, int) and length > positions:
            raise ConfigError(
                f"--{key} {length} is longer than the checkpoint's max_position_embeddings "
                f"{positions} (--{model_key} {model_name or model_dir}): lower --{key} to {positions} or "
                f"pre-train with a larger model.transformers_config.max_position_embeddings"
            )


def _max_lengths(block: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in dict(block).items():
        if key == "max_seq_length":
            yield f"{prefix}.{key}", value
        elif isinstance(value, dict) or hasattr(value, "items"):
            yield from _max_lengths(value, f"{prefix}.{key}")
