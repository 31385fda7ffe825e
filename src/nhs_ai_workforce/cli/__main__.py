"""``python -m nhs_ai_workforce.cli``: the same as ``aiwf``."""

import sys

from . import main

sys.exit(main())
