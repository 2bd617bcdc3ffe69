"""The transformers config of a model pre-trained from scratch, and the position-table checks.

Shared by the plain masked-LM model (``claf.pretrain.model``) and ELECTRA (``claf.pretrain.electra``).
"""

from claf.config.errors import ConfigError
from claf.config.kinds import OFFSET_POSITION_TYPES

DEFAULT_POSITIONS = 512


def model_config(transformers_config, tokenizer, max_seq_length=512):
    """A transformers config from the recipe's ``transformers_config`` (vocab and special ids from the tokenizer)."""
    import transformers

    options = dict(transformers_config)
    model_type = options.pop("model_type", "bert")
    options.setdefault("vocab_size", len(tokenizer))
    options.setdefault("pad_token_id", tokenizer.pad_token_id)
    # Positions for every shipped task (512), not just this recipe's longest length: a checkpoint pre-trained
    # at 128 tokens still fine-tunes KorQuAD at 512, and a resumed run may raise its sequence length.
    offset = position_offset(model_type, tokenizer.pad_token_id)
    options.setdefault("max_position_embeddings", max(max_seq_length, DEFAULT_POSITIONS) + offset)
    if offset:
        options.setdefault("type_vocab_size", 1)
    config = transformers.AutoConfig.for_model(model_type, **options)
    check_positions(config, max_seq_length, "model.transformers_config.max_position_embeddings")
    if config.vocab_size < len(tokenizer):
        raise ConfigError(
            f"model.transformers_config.vocab_size {config.vocab_size} is smaller than the "
            f"tokenizer's {len(tokenizer)} entries; remove it to take the tokenizer's"
        )
    return config


def position_offset(model_type, pad_token_id):
    """RoBERTa-style models number positions from pad_token_id + 1: their table is that much longer."""
    return pad_token_id + 1 if model_type in OFFSET_POSITION_TYPES else 0


def usable_positions(config):
    return config.max_position_embeddings - position_offset(config.model_type, config.pad_token_id or 0)


def check_positions(config, max_seq_length, key):
    usable = usable_positions(config)
    if max_seq_length > usable:
        raise ConfigError(
            f"schedule.sequence_length reaches {max_seq_length} tokens but {key} allows {usable}: "
            f"raise {key} or shorten schedule.sequence_length"
        )
