"""Import the project's own module_utils the way Ansible modules do.

The demo, the benchmarks and the tests read the ledger and the bucketing rule
with the product's code rather than a copy of it. Modules import
``ansible.module_utils.<name>``; Ansible finds those files through ansible.cfg,
and this adds the same directory to the package's search path.
"""

import os

import ansible.module_utils

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE_UTILS = os.path.join(PROJECT_ROOT, "module_utils")

if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)

# These imports need the search path set above.
from ansible.module_utils import bucketing, ledger, timeline  # noqa: E402

__all__ = ["PROJECT_ROOT", "bucketing", "ledger", "timeline"]
