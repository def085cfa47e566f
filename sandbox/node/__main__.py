import sys

from sandbox.node.agent import main

sys.exit(main())
