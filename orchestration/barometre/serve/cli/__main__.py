"""`python -m barometre.serve.cli`: the `barometre` command."""

import sys

from barometre.serve.cli import main

sys.exit(main())
