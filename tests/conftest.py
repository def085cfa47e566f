"""Make the project's module_utils importable the way modules import them.

Modules import ``ansible.module_utils.<name>``; Ansible finds those in the
project's ``module_utils/`` through ansible.cfg. Tests extend the package path
the same way so they exercise the very code the modules ship.
"""

import pathlib
import sys

import ansible.module_utils
import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE_UTILS = str(PROJECT_ROOT / "module_utils")

if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)
for path in (str(PROJECT_ROOT), str(PROJECT_ROOT / "library")):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(scope="session")
def real_api(tmp_path_factory):
    """The real kube-apiserver and etcd alone (``tests.kubernetes``), one per session.

    Under pytest-xdist every worker has its own. Tests share it and isolate themselves
    in namespaces of their own: without the namespace controller a deleted namespace
    never goes away, so nothing here deletes one.
    """
    from tests.kubernetes import RealApiServer

    server = RealApiServer(tmp_path_factory.mktemp("kube"))
    yield server
    server.stop()
