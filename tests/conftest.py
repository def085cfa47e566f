"""Make the project's module_utils importable the way modules import them.

Modules import ``ansible.module_utils.<name>``; Ansible finds those in the
project's ``module_utils/`` through ansible.cfg. Tests extend the package path
the same way so they exercise the very code the modules ship.
"""

import pathlib
import sys

import ansible.module_utils

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE_UTILS = str(PROJECT_ROOT / "module_utils")

if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)
for path in (str(PROJECT_ROOT), str(PROJECT_ROOT / "library")):
    if path not in sys.path:
        sys.path.insert(0, path)
