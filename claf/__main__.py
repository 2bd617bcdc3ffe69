import sys

from claf.cli import main

sys.exit(main())
