"""The recipe's tokenizer: a saved ``transformers`` tokenizer folder, found by path, mirror or hub name.

``tokenizer.name_or_path`` may be a folder (e.g. one written by ``python -m claf vocab build``),
a folder relative to ``$CLAF_DATA_MIRROR`` (``vocab/koelectra``), a vocab recipe (``vocab/kor_8k_cased``:
built on first use and reused while the recipe is unchanged), or anything
``claf.hub.resolve.resolve_pretrained`` accepts (a checkpoint name, URL or archive).
"""

import logging
import os
from pathlib import Path

from claf.config.loader import list_base_configs
from claf.errors import MissingFileError, UserError
from claf.tokens.files import tokenizer_files

logger = logging.getLogger(__name__)


def tokenizer_dir(name_or_path):
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    from claf.data.sources import mirror_root

    mirror = mirror_root()
    if mirror and not path.is_absolute() and (mirror / text).is_dir():
        return mirror / text
    if text.startswith("vocab/") and text in list_base_configs():
        from claf.tokens.vocab_build import built_vocab

        return built_vocab(text, log=lambda m: logger.info("%s", m))
    from claf.hub.cache import HubError
    from claf.hub.resolve import resolve_pretrained

    try:
        resolved = Path(resolve_pretrained(text))
    except HubError as exc:
        raise MissingFileError(f"tokenizer.name_or_path: {exc}") from None
    if not resolved.is_dir():
        raise MissingFileError(
            f"tokenizer.name_or_path '{text}': no such tokenizer folder (looked as a path, "
            f"under CLAF_DATA_MIRROR and in the model index); build one with "
            f"`python -m claf vocab build` or give a saved tokenizer folder"
        )
    return resolved


def load_tokenizer(name_or_path):
    """(fast transformers tokenizer, its folder), loaded exactly as fine-tuning loads it (MeCab/jamo re-attached)."""
    from claf.tokens.pipeline import load_tokenizer as load_saved

    folder = tokenizer_dir(name_or_path)
    tokenizer_files(folder)
    tokenizer = load_saved(folder)
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(
            f"{folder}: corpus preparation needs a fast (tokenizers-backed) tokenizer; save one with a tokenizer.json"
        )
    for name in ("cls_token_id", "sep_token_id", "mask_token_id", "pad_token_id"):
        if getattr(tokenizer, name) is None:
            raise UserError(
                f"{folder}: the tokenizer has no {name[:-9]} token; pre-training needs "
                f"[CLS]/[SEP]/[MASK]/[PAD] (or <s>/</s>/<mask>/<pad>)"
            )
    return tokenizer, folder
