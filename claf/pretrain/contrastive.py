"""``model.contrastive``: a sentence-level loss beside masked LM, for ``instances.format sentence_pair``.

The fine-tuning suites read a sentence pair encoded together, and their STS heads compare the mean of
each segment's token vectors (``pooling: pair``). Masked LM alone gives those segment means no reason to
tell one sentence from another. This loss does: segment A of each instance is encoded a second time on
its own (its unmasked tokens, attending only to ``[CLS] A [SEP]``), and the mean of A's tokens inside the
masked pair must pick out the mean of the same sentence encoded alone among the batch's other sentences
(InfoNCE over cosine similarities / ``temperature``, both directions; SimCSE's loss, with the partner
segment and the masks as the noise between the two views). The extra forward pass covers segment A only,
trimmed to the batch's longest A. No parameters are added: checkpoints are unchanged transformers models.
"""

import torch
import torch.nn.functional as F

from claf.models.heads.pooling import masked_mean
from claf.pretrain.masking import IGNORE_INDEX


def segment_a(batch):
    """(positions of [CLS] A [SEP], positions of A's own tokens), each [rows, width of the longest A + 2]."""
    types, attention = batch["token_type_ids"], batch["attention_mask"]
    in_a = (types == 0) & (attention > 0)
    lengths = in_a.sum(dim=1)  # A's tokens + [CLS] + [SEP]
    width = int(lengths.max())
    index = torch.arange(width, device=types.device)
    content = (index >= 1) & (index < (lengths - 1).unsqueeze(1))
    return in_a[:, :width], content


def alone_view(encoder, batch):
    """(segment A encoded on its own: its tokens unmasked, attending only to ``[CLS] A [SEP]``, A's own
    token positions), trimmed to the batch's longest A."""
    attend, content = segment_a(batch)
    width = attend.shape[1]
    labels = batch["labels"][:, :width]
    ids = batch["input_ids"][:, :width]
    clean = torch.where(labels != IGNORE_INDEX, labels, ids)  # the masked positions get their tokens back
    hidden = encoder(
        input_ids=clean * attend, attention_mask=attend.long(), token_type_ids=torch.zeros_like(clean)
    ).last_hidden_state
    return hidden, content


def contrastive_loss(encoder, batch, joint_hidden, temperature):
    """(the loss, a scalar; how many rows' pair view ranked their own alone view first; the rows scored)."""
    alone, content = alone_view(encoder, batch)
    width = content.shape[1]
    rows = content.any(dim=1)  # an instance whose A is empty has nothing to match
    paired = F.normalize(masked_mean(joint_hidden[:, :width], content)[rows].float(), dim=-1)
    single = F.normalize(masked_mean(alone, content)[rows].float(), dim=-1)
    logits = paired @ single.T / temperature
    target = torch.arange(len(logits), device=logits.device)
    loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
    correct = int((logits.detach().argmax(dim=1) == target).sum())
    return loss, correct, len(logits)
