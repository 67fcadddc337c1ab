"""The pytest plugin, under its documented name: the module :mod:`_nc_verify_pytestplugin` itself.

The plugin (``rng`` fixture, ``--nc-verify-profile``, claims summary) is the top-level module
``_nc_verify_pytestplugin``, registered by the ``pytest11`` entry point ``nc_verify``: pytest
loads it without importing this package, so suites that do not use it pay nothing. This name
stays for ``pytest -p nc_verify.testing.plugin`` (with plugin autoloading off) and for
:func:`node_seed` and :func:`summary_lines`.
"""

import sys

import _nc_verify_pytestplugin

# the same module object under both names, so pytest never registers its hooks twice
sys.modules[__name__] = _nc_verify_pytestplugin
