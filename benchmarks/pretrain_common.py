"""Shared set-up of the LaRva benchmarks: the larva_kor_tiny recipe's tokenizer and prepared corpus."""

import json
import os
import sys
import time
from pathlib import Path

from provenance import stamp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CLAF_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
RESULTS = ROOT / "benchmarks" / "pretrain_results.json"


def recipe():
    from claf.config import resolve_config

    return resolve_config("pretrain/larva_kor_tiny", kind="pretrain")


def prepared():
    """(tokenizer, prepared corpus) of the tiny recipe (prepared once, then reused)."""
    from claf.pretrain.runner import build_data
    from claf.pretrain.tokenizer import load_tokenizer

    cfg = recipe()
    tokenizer, folder = load_tokenizer(cfg.tokenizer.name_or_path)
    cwd = os.getcwd()
    os.chdir(ROOT)  # the recipe's prepared_dir is relative to the checkout
    try:
        return tokenizer, build_data(cfg, tokenizer, folder)
    finally:
        os.chdir(cwd)


def save(section, values):
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    data[section] = dict(values, measured=time.strftime("%Y-%m-%d %H:%M"), cpu_count=os.cpu_count(), **stamp())
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps({section: data[section]}, indent=2))
