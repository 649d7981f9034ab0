"""The engine adapter: the only package in Kitaru that imports ZenML.

Everything else speaks Kitaru (flows, checkpoints, executions) and calls into
these modules, so a ZenML upgrade touches one place. Call
:func:`kitaru._engine.bootstrap.load_engine` before importing ZenML.
"""
