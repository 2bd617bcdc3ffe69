#!/usr/bin/env python
"""Fine-tune a model: python train.py --base_config klue/nsmc_bert [--section.key value ...]"""

import sys

from claf.commands.train import main

if __name__ == "__main__":
    sys.exit(main())
