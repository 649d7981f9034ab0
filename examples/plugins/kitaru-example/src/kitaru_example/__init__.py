"""kitaru-example: a Kitaru plugin written the way a third party would write one.

It is installed like any other distribution (``pip install ./kitaru-example``)
and found only through its ``kitaru`` entry point (``kitaru_example.plugin``).
It provides one record of each kind:

* the ``shelf`` stack type (:mod:`kitaru_example.stacks`): flows run in this
  process, artifacts go to the directory given with ``--shelf-dir``;
* a serializer for :class:`Note` (:mod:`kitaru_example.serializers`);
* the ``echo/`` LLM backend (:mod:`kitaru_example.llm`): an offline,
  deterministic model for tests and demos;
* the ``example-jsonl`` log store (:mod:`kitaru_example.log_store`).

Flows import the value type from here::

    from kitaru_example import Note
"""

from kitaru_example.notes import Note

__all__ = ["Note"]
