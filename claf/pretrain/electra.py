"""ELECTRA pre-training (``model.objective: electra``): replaced-token detection with a small generator.

A small generator (``ElectraForMaskedLM``) does masked LM on the masked positions only (as the
``mlm`` objective); its samples replace those tokens, and the discriminator
(``ElectraForPreTraining``) learns, on every real position, which tokens were replaced:

    loss = generator MLM loss + discriminator_weight * replaced-token-detection loss

The two share their embeddings (token, position and token-type tables and their LayerNorm: one
module), so the generator's output layer is the shared word embeddings. Only the discriminator is
exported (``.net``): ``AutoModelFor*.from_pretrained`` load it for every fine-tuning head.

The ``model.electra`` block (every key optional):

    generator_size        0.25  fraction of the discriminator's hidden size, intermediate size and heads
    generator_layers      1.0   fraction of its layers
    generator             {}    explicit transformers config values for the generator (win over the fractions)
    share_embeddings      true  tie the embeddings as in the paper (false: the generator has its own)
    discriminator_weight  50.0  lambda of the paper
    sampling              multinomial | gumbel: how replacements are drawn from the generator
    temperature           1.0
"""

import torch
import torch.nn.functional as F

from claf.config.errors import ConfigError
from claf.pretrain.masking import IGNORE_INDEX
from claf.pretrain.net_config import model_config
from claf.pretrain.output import PretrainOutput

SAMPLING = ("multinomial", "gumbel")
EVAL_SEED = 1234  # held-out replacements are drawn from a fixed generator: the same ones at every checkpoint


def generator_config(discriminator_config, generator_size=0.25, generator_layers=1.0, generator=None):
    """The generator's transformers config: the discriminator's, scaled down (then explicit values)."""
    d = discriminator_config
    if not 0 < float(generator_size) <= 1 or not 0 < float(generator_layers) <= 1:
        raise ConfigError(
            f"model.electra.generator_size ({generator_size}) and generator_layers "
            f"({generator_layers}) are fractions of the discriminator: use values in (0, 1]"
        )
    options = d.to_dict()
    for key in ("architectures", "_name_or_path", "transformers_version", "model_type"):
        options.pop(key, None)
    heads = max(1, round(d.num_attention_heads * generator_size))
    options.update(
        hidden_size=max(heads, round(d.hidden_size * generator_size)),
        num_attention_heads=heads,
        intermediate_size=max(1, round(d.intermediate_size * generator_size)),
        num_hidden_layers=max(1, round(d.num_hidden_layers * generator_layers)),
    )
    options.update(dict(generator or {}))
    config = type(d)(**options)
    if config.hidden_size % config.num_attention_heads:
        raise ConfigError(
            f"the ELECTRA generator's hidden size {config.hidden_size} is not a multiple of its "
            f"{config.num_attention_heads} attention heads; set model.electra.generator "
            '{"hidden_size": ..., "num_attention_heads": ...}'
        )
    return config


def build_electra(transformers_config, options, tokenizer, pretrained_model_name=None, max_seq_length=512):
    """(discriminator, generator) from the recipe, the embeddings shared when ``share_embeddings``."""
    import transformers

    known = {
        "generator_size",
        "generator_layers",
        "generator",
        "share_embeddings",
        "discriminator_weight",
        "sampling",
        "temperature",
    }
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"model.electra: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if pretrained_model_name:  # continue from a discriminator checkpoint; the generator starts afresh
        from claf.hub.resolve import resolve_pretrained

        discriminator = transformers.ElectraForPreTraining.from_pretrained(resolve_pretrained(pretrained_model_name))
    else:
        model_type = transformers_config.get("model_type", "electra")
        if model_type != "electra":
            raise ConfigError(
                f"model.objective electra builds transformers' ELECTRA classes: set "
                f"model.transformers_config.model_type to electra (not {model_type})"
            )
        config = model_config(dict(transformers_config, model_type="electra"), tokenizer, max_seq_length)
        discriminator = transformers.ElectraForPreTraining(config)
    gen_config = generator_config(
        discriminator.config,
        options.get("generator_size", 0.25),
        options.get("generator_layers", 1.0),
        options.get("generator"),
    )
    generator = transformers.ElectraForMaskedLM(gen_config)
    if options.get("share_embeddings", True):
        if gen_config.embedding_size != discriminator.config.embedding_size:
            raise ConfigError(
                f"model.electra.share_embeddings needs the same embedding_size in both models "
                f"(generator {gen_config.embedding_size}, discriminator "
                f"{discriminator.config.embedding_size})"
            )
        generator.electra.embeddings = discriminator.electra.embeddings
        generator.tie_weights()  # the generator's output layer is the shared word embeddings
    return discriminator, generator


def loss_options(options):
    """The ``model.electra`` keys that ElectraPretrainModel takes."""
    return {k: options[k] for k in ("discriminator_weight", "sampling", "temperature") if k in options}


def sample_tokens(log_probs, method="multinomial", generator=None):
    """One token per row of ``log_probs`` [rows, vocab], drawn from its distribution.

    multinomial: inverse CDF (one uniform per row against the cumulative probabilities), the
    cheaper of the two over a 32k vocabulary; gumbel: argmax(log p + Gumbel noise), as in the
    paper's code (the noise is -log of an Exp(1) draw).
    """
    if method == "gumbel":
        noise = torch.empty_like(log_probs).exponential_(generator=generator).log()
        return (log_probs - noise).argmax(-1)
    cdf = log_probs.exp().cumsum(-1)
    u = torch.rand((len(log_probs), 1), device=log_probs.device, generator=generator) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_max(log_probs.shape[-1] - 1)


class ElectraPretrainModel(torch.nn.Module):
    """``forward(batch)`` on a masked batch -> PretrainOutput (loss, generator MLM, RTD)."""

    def __init__(self, discriminator, generator, discriminator_weight=50.0, sampling="multinomial", temperature=1.0):
        super().__init__()
        if sampling not in SAMPLING:
            raise ConfigError(f"model.electra.sampling '{sampling}' is not one of {', '.join(SAMPLING)}")
        if float(temperature) <= 0:
            raise ConfigError(f"model.electra.temperature must be > 0, got {temperature}")
        self.net = discriminator  # what checkpoints export
        self.generator = generator
        self.discriminator_weight = float(discriminator_weight)
        self.sampling, self.temperature = sampling, float(temperature)

    @property
    def config(self):
        return self.net.config

    def _inputs(self, batch, input_ids, config):
        inputs = {"input_ids": input_ids, "attention_mask": batch.get("attention_mask")}
        if "token_type_ids" in batch and getattr(config, "type_vocab_size", 0) > 1:
            inputs["token_type_ids"] = batch["token_type_ids"]
        return inputs

    def _sample(self, log_probs, logits):
        if self.temperature != 1.0:
            log_probs = F.log_softmax(logits.detach().float() / self.temperature, -1)
        rng = None
        if not self.training:
            rng = torch.Generator(device=log_probs.device).manual_seed(EVAL_SEED)
        return sample_tokens(log_probs.detach(), self.sampling, rng)

    def forward(self, batch):
        input_ids, labels = batch["input_ids"], batch["labels"]
        masked = labels != IGNORE_INDEX
        gen = self.generator
        hidden = gen.electra(**self._inputs(batch, input_ids, gen.config)).last_hidden_state[masked]
        logits = gen.generator_lm_head(gen.generator_predictions(hidden))  # [masked tokens, vocab]
        targets = labels[masked]
        log_probs = F.log_softmax(logits.float(), -1)
        mlm_loss = F.nll_loss(log_probs, targets)

        original = torch.where(masked, labels, input_ids)
        replaced_ids = original.masked_scatter(masked, self._sample(log_probs, logits))
        replaced = (replaced_ids != original).float()  # a sample equal to the original counts as original
        rtd_logits = self.net(**self._inputs(batch, replaced_ids, self.net.config)).logits.float()
        real = batch.get("attention_mask")
        real = torch.ones_like(input_ids, dtype=torch.bool) if real is None else real.bool()
        rtd_loss = F.binary_cross_entropy_with_logits(rtd_logits[real], replaced[real])
        loss = mlm_loss + self.discriminator_weight * rtd_loss

        mlm_correct = rtd_correct = None
        replaced_count = 0
        if not self.training:
            replaced_count = int(replaced[real].sum())
            mlm_correct = (logits.detach().float().argmax(-1) == targets).sum()
            rtd_correct = ((rtd_logits[real] > 0).float() == replaced[real]).sum()
        return PretrainOutput(
            loss,
            mlm_loss.detach(),
            None,
            mlm_correct,
            int(targets.numel()),
            rtd_loss.detach(),
            rtd_correct,
            int(real.sum()),
            replaced_count,
        )

    def loss_units(self, batch):
        return int((batch["labels"] != IGNORE_INDEX).sum())

    def save_pretrained(self, path, **kwargs):
        self.net.save_pretrained(path, **kwargs)
