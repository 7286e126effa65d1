"""Entry point of ``python -m lstm_core``."""

import sys

from .cli import main

sys.exit(main())
