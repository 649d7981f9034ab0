"""Durable agents from agent frameworks, through their public interfaces.

* :mod:`kitaru.adapters.pydantic_ai`: ``KitaruAgent(agent)`` for a Pydantic AI
  ``Agent`` (``pip install 'kitaru[pydantic-ai]'``);
* :mod:`kitaru.adapters.openai_agents`: ``KitaruRunner`` for the OpenAI Agents
  SDK (``pip install 'kitaru[openai-agents]'``).

Both journal every model request as an ``llm_call`` checkpoint and every tool
call as a ``tool_call`` checkpoint (:mod:`kitaru.adapters.journal`), so a
retry after a failure or a crash asks no model and runs no tool a second time.
The framework itself is imported only by the module that wraps it.
"""
