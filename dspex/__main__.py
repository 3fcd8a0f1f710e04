import sys

from dspex.cli import main

sys.exit(main())
