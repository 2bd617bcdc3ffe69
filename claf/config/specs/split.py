"""``data_reader.<dataset>.split``: one labelled file cut into train and validation rows by a fixed seed.

For tasks whose only public labelled file is a dev set (PAWS-X ko ``dev_2k``, KLUE-NLI and KLUE-STS dev):
``train_file_path`` and ``valid_file_path`` name the same file and ``split`` decides which rows train.
``group_by`` names an example field (``text``: the first sentence) whose rows stay on one side: KLUE-NLI
pairs each premise with three hypotheses, one per label, and a row-wise cut would teach the label of a
premise's other rows.
"""

from typing import Annotated, Literal

from pydantic import Field

from claf.config.specs.base import Block


class HoldoutSplit(Block):
    seed: Annotated[int, Field(ge=0)] = 42
    valid_share: Annotated[float, Field(gt=0, lt=1)]
    group_by: Literal["text", "text_pair"] | None = None
