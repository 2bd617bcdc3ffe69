#!/usr/bin/env python
"""Predict with a trained run: python predict.py <run dir or checkpoint dir> --text "..." """

import sys

from claf.commands.predict import main

if __name__ == "__main__":
    sys.exit(main())
