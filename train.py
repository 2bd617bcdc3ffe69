#!/usr/bin/env python
"""Fine-tune a model: python train.py --base_config klue/nsmc_bert [--section.key value ...]"""

import sys

from claf.cli import run_main

if __name__ == "__main__":
    sys.exit(run_main("train"))
