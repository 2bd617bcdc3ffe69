#!/usr/bin/env python
"""Pre-train a LaRva model: python pretrain.py --base_config pretrain/larva_kor_tiny [--section.key value ...]"""

import sys

from claf.commands.pretrain import main

if __name__ == "__main__":
    sys.exit(main())
