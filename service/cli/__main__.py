"""``python -m service.cli``: the ``evidencia`` command."""

import sys

from service.cli.main import main

sys.exit(main())
