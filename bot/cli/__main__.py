"""`python -m bot.cli` (e.g. `python -X importtime -m bot.cli --help`) runs `briefbot`."""

import sys

from bot.cli import main

sys.exit(main())
