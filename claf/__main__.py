import sys

from claf.commands import main

sys.exit(main())
