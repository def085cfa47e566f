"""``python -m sandbox up|down|status|wait-ready``; see ``sandbox.ctl``."""

import sys

from sandbox.ctl import main

sys.exit(main())
