"""LLM calls for agents: ``kitaru.llm()``, model aliases, credentials and cost.

* :mod:`kitaru.llm.call`: the call itself, journaled as a checkpoint.
* :mod:`kitaru.llm.messages`: prompt forms and call names.
* :mod:`kitaru.llm.backends`: which installed backend serves ``provider/model``.
* :mod:`kitaru.llm.credentials`: environment first, else the alias's secret.
* :mod:`kitaru.llm.pricing`: dated price tables and ``kitaru.yaml`` overrides.
* :mod:`kitaru.llm.usage`: an execution's tokens and cost.
* :mod:`kitaru.llm.registry`: model aliases (``kitaru model ...``).
* :mod:`kitaru.llm.secrets`: secret values for the credential overlay.

Nothing here is imported by ``import kitaru``; the engine loads on first call.
"""
