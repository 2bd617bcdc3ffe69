"""The recipe's ``model`` block -> the pre-training module of its objective.

The one place that knows every objective: ``claf.pretrain.model`` (mlm, mlm_nsp) and
``claf.pretrain.electra`` import neither this module nor each other.
"""

from claf.pretrain.electra import ElectraPretrainModel, build_electra, loss_options
from claf.pretrain.model import PretrainModel, build_net


def build_model(model_cfg, tokenizer, max_seq_length=512):
    """The module the trainer runs (``.net`` is what checkpoints export)."""
    objective = model_cfg.objective
    if objective == "electra":
        options = dict(model_cfg.get("electra") or {})
        discriminator, generator = build_electra(
            dict(model_cfg.transformers_config), options, tokenizer, model_cfg.pretrained_model_name, max_seq_length
        )
        return ElectraPretrainModel(discriminator, generator, **loss_options(options))
    net = build_net(
        dict(model_cfg.transformers_config), tokenizer, objective, model_cfg.pretrained_model_name, max_seq_length
    )
    return PretrainModel(net, model_cfg.get("contrastive"))
