"""The client's JSON encoder: :func:`kitaru.jsonable.to_jsonable`, importable from here too::

    from kitaru import KitaruClient
    from kitaru.client.serialize import to_jsonable

    data = to_jsonable(KitaruClient().executions.latest())
"""

from kitaru.jsonable import to_jsonable

__all__ = ["to_jsonable"]
