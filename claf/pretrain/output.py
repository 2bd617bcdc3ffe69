"""What a pre-training model's ``forward`` returns, for every objective (the trainer and evaluator read it)."""

from dataclasses import dataclass

import torch


@dataclass
class PretrainOutput:
    loss: torch.Tensor
    mlm_loss: torch.Tensor
    nsp_loss: torch.Tensor = None
    mlm_correct: torch.Tensor = None
    mlm_count: int = 0
    rtd_loss: torch.Tensor = None  # electra: replaced-token detection over every real position
    rtd_correct: torch.Tensor = None
    rtd_count: int = 0
    rtd_replaced: int = 0  # replaced positions among rtd_count (evaluation only)
    contrastive_loss: torch.Tensor = None  # model.contrastive: the sentence-level loss (claf.pretrain.contrastive)
    contrastive_correct: int = 0  # rows whose two views of segment A matched each other first
    contrastive_count: int = 0
