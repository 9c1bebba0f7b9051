"""``python -m hukou_cli``: the ``hukou`` command run by this interpreter (the load test and the tests start the
dashboard this way, so the server runs the same code as they do, not whichever ``hukou`` script is on the PATH)."""

import sys

from hukou_cli.main import main

sys.exit(main())
