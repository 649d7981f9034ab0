"""What the cloud plugin tests (``tests/aws``, ``tests/azure``, ``tests/gcp``) share.

One module per job:

* :mod:`tests.cloud.servers`: start a local emulator process, wait until it
  answers, stop it again.
* :mod:`tests.cloud.specs`: stack specs built exactly as core builds the ones
  it hands to ``build_components``, ``verify`` and an artifact-store backend.
* :mod:`tests.cloud.engine`: put what a plugin builds into the real engine
  (validate, register, inspect, delete).
* :mod:`tests.cloud.cli`: run the real ``kitaru`` console script and read its
  JSON output.
* :mod:`tests.cloud.records`: what every cloud plugin's records and plugin
  info must say about where they come from.

None of these modules is collected by pytest (no ``test_`` prefix).
"""
