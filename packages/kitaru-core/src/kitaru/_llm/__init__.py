"""LLM calls for agents: ``kitaru.llm()``, model aliases, credentials and cost.

* :mod:`kitaru._llm.call`: the call itself, journaled as a checkpoint.
* :mod:`kitaru._llm.messages`: prompt forms and call names.
* :mod:`kitaru._llm.backends`: which installed backend serves ``provider/model``.
* :mod:`kitaru._llm.credentials`: environment first, else the alias's secret.
* :mod:`kitaru._llm.pricing`: dated price tables and ``kitaru.yaml`` overrides.
* :mod:`kitaru._llm.usage`: an execution's tokens and cost.
* :mod:`kitaru._llm.registry`: model aliases (``kitaru model ...``).
* :mod:`kitaru._llm.secrets`: secret values for the credential overlay
  (:mod:`kitaru._llm.secret_store`: exact lookups over the engine port).

Nothing here is imported by ``import kitaru``; the engine loads on first call.
The package is private (``_llm``) so that it never shadows the public
``kitaru.llm`` function once imported.
"""
