"""The cassette file: an execution's model calls as one readable JSON file, and how a request finds its call.

``kitaru executions export ID --cassette PATH`` writes it; a run with
``KITARU_CASSETTE=PATH`` (or inside ``kitaru.testing.cassette(PATH)``) answers
its model requests from it (:mod:`kitaru._llm.cassettes`). The file is
indented JSON with sorted keys, so it reads well and diffs well in a review::

    {
      "calls": [
        {
          "kind": "llm",
          "name": "draft",
          "request": {"messages": [...], "model": "openai/gpt-4o-mini", "response_format": null, "tools": []},
          "response": {"text": "...", "tool_calls": []},
          "usage": {"cost_usd": 1.2e-05, "provider_model": "gpt-4o-mini-2024-07-18",
                    "tokens_input": 10, "tokens_output": 5}
        }
      ],
      "source": {"exec_id": "...", "flow": "..."},
      "tool_calls": [],
      "version": 1
    }

Two kinds of calls: ``llm`` (a ``kitaru.llm()`` request: ``request`` is the
model, the messages as sent, the tools offered and the response format) and
``agent`` (a request an agent framework sent through an adapter: ``request``
is the adapter's identity of it, ``{"agent", "model", "conversation"}``, the
conversation being a digest; ``prompt`` holds the messages for reading).

A request matches a recorded call when both its call name and its
fingerprint (:func:`fingerprint`: a digest of the request, keys sorted and
empty values left out) are equal. The fingerprint is computed from the
``request`` in the file when it is read, so a request edited by hand is
matched as edited.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitaru.errors import KitaruUsageError
from kitaru.locks import file_lock

VERSION = 1
"""The cassette format's version (the ``version`` field)."""

KINDS = ("llm", "agent")
"""``llm``: a ``kitaru.llm()`` request; ``agent``: a model request of an agent framework (an adapter)."""

REQUEST_KEYS = {"llm": ("model", "messages", "tools", "response_format"), "agent": ("agent", "model", "conversation")}
"""What identifies a request of each kind (the fingerprinted part)."""


def _normalised(value: Any) -> Any:
    """``value`` as plain JSON: keys sorted, None values and empty containers left out of objects."""
    if isinstance(value, dict):
        kept = {str(key): _normalised(item) for key, item in sorted(value.items(), key=lambda pair: str(pair[0]))}
        return {key: item for key, item in kept.items() if item not in (None, [], {})}
    if isinstance(value, list | tuple):
        return [_normalised(item) for item in value]
    return value


def request_of(kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """The part of a request that identifies it (:data:`REQUEST_KEYS`), JSON-ready."""
    picked = {key: request.get(key) for key in REQUEST_KEYS[kind]}
    return json.loads(json.dumps(picked, default=str))  # tuples -> lists, as in the file


def fingerprint(kind: str, request: dict[str, Any]) -> str:
    """A digest of a request: the same for the same model, messages, tools and response format.

    Args:
        kind: ``llm`` or ``agent``.
        request: The request (other keys than :data:`REQUEST_KEYS` are ignored).
    """
    normal = _normalised({"kind": kind, **request_of(kind, request)})
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Miss:
    """Why a request has no recorded call: the closest call and how the request differs from it.

    Attributes:
        closest: The closest recorded call's name, or None when the file has no call.
        difference: Lines of a unified diff (recorded -> requested) of the two requests.
    """

    closest: str | None
    difference: list[str]


class CassetteFile:
    """One cassette file, read once; :meth:`find` serves requests, :meth:`append` records new calls.

    Args:
        path: The file.
        must_exist: Refuse a missing file (in ``offline`` mode); else a
            missing file is an empty cassette, created on the first append.

    Raises:
        KitaruUsageError: For a missing file (when it must exist), a file that
            is not JSON, or a version this Kitaru cannot read.
    """

    def __init__(self, path: str | Path, *, must_exist: bool = True) -> None:
        self.path = Path(path).expanduser().resolve()
        self.data = read(self.path, must_exist=must_exist)

    def calls(self) -> list[dict[str, Any]]:
        """The recorded calls, in file order."""
        return list(self.data.get("calls") or [])

    def find(self, kind: str, name: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """The first recorded call of this kind, name and fingerprint, or None."""
        wanted = fingerprint(kind, request)
        for call in self.calls():
            if call.get("kind") == kind and call.get("name") == name and fingerprint(kind, call["request"]) == wanted:
                return call
        return None

    def miss(self, kind: str, name: str, request: dict[str, Any]) -> Miss:
        """The closest recorded call (same name first, else the most similar request) and the difference."""
        candidates = [call for call in self.calls() if call.get("kind") == kind]
        if not candidates:
            return Miss(closest=None, difference=[])
        wanted = _lines(request_of(kind, request))
        same_name = [call for call in candidates if call.get("name") == name]

        def similarity(call: dict[str, Any]) -> float:
            return difflib.SequenceMatcher(None, _lines(request_of(kind, call["request"])), wanted).ratio()

        closest = max(same_name or candidates, key=similarity)
        recorded = _lines(request_of(kind, closest["request"]))
        difference = list(
            difflib.unified_diff(
                recorded, wanted, f"recorded {closest.get('name')}", f"requested {name}", lineterm="", n=1
            )
        )
        return Miss(closest=str(closest.get("name")), difference=difference)

    def append(self, call: dict[str, Any]) -> None:
        """Add a call to the file (re-read under a lock, so concurrent recorders lose nothing)."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            data = read(self.path, must_exist=False)
            data["calls"] = [*(data.get("calls") or []), call]
            write(self.path, data)
            self.data = data


def _lines(value: Any) -> list[str]:
    return json.dumps(_normalised(value), indent=2, sort_keys=True, default=str).splitlines()


def empty(source: dict[str, Any] | None = None) -> dict[str, Any]:
    """A cassette with no call."""
    return {"version": VERSION, "source": source or {}, "calls": [], "tool_calls": []}


def read(path: Path, *, must_exist: bool) -> dict[str, Any]:
    """Read a cassette file (see :class:`CassetteFile` for the errors)."""
    if not path.exists():
        if must_exist:
            raise KitaruUsageError(
                f"Cassette {path} does not exist. Record one with: kitaru executions export ID --cassette {path} "
                "(or run once with KITARU_CASSETTE_MODE=record)."
            )
        return empty()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitaruUsageError(f"Cassette {path} could not be read as JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        raise KitaruUsageError(
            f"Cassette {path} has version {version!r}; this Kitaru reads version {VERSION}. "
            "Export it again with: kitaru executions export ID --cassette PATH"
        )
    return data


def write(path: Path, data: dict[str, Any]) -> None:
    """Write a cassette: indented JSON, keys sorted, replaced whole (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    partial.replace(path)


__all__ = [
    "KINDS",
    "REQUEST_KEYS",
    "VERSION",
    "CassetteFile",
    "Miss",
    "empty",
    "fingerprint",
    "read",
    "request_of",
    "write",
]
