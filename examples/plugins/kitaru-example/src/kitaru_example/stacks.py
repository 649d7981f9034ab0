"""The ``shelf`` stack type: run flows in this process, keep artifacts in ``--shelf-dir``.

A stack type is a :class:`~kitaru.plugins.records.StackProviderSpec`. Its
fields are its whole interface: Kitaru turns ``StackField("shelf_dir", ...,
required=True)`` into the ``--shelf-dir`` flag of ``kitaru stack create``, the
``shelf_dir`` key of ``--file`` and the ``shelf_dir`` parameter of the MCP
``manage_stack`` tool, and refuses to create a shelf stack without it::

    kitaru stack create notes --type shelf --shelf-dir ~/kitaru-shelf

Kitaru then calls :func:`verify_shelf` (unless ``--no-verify``) and
:func:`build_shelf_components`, and registers what the latter describes::

    StackComponents(
        orchestrator=ComponentSpec(flavor="local", name="notes"),
        artifact_store=ComponentSpec(
            flavor="local", configuration={"path": "/home/me/kitaru-shelf"}, name="notes"
        ),
    )

``local`` is the engine's flavor name for both components (see ``zenml
orchestrator flavor list`` and ``zenml artifact-store flavor list``): the
orchestrator runs each flow in the calling process, the artifact store keeps
files in a directory. Nothing here imports the engine.
"""

from __future__ import annotations

from kitaru.plugins.records import StackComponents, StackField, StackProviderSpec, StackSpec
from kitaru.plugins.stack_helpers import component_spec

from kitaru_example.artifact_store import (
    LOCAL_FLAVOR,
    SHELF_DIR,
    check_writable,
    shelf_artifact_store,
    shelf_path,
)

SHELF_STACK_TYPE = "shelf"
"""The stack type name (``--type shelf``)."""

SHELF_DIR_FIELD = StackField(
    name=SHELF_DIR,
    description="Directory that keeps the stack's artifacts (created on first write).",
    required=True,
    example="~/kitaru-shelf",
    label="Shelf directory",
)
"""The type's one field: ``--shelf-dir`` on the command line, ``shelf_dir`` elsewhere."""


def build_shelf_components(spec: StackSpec) -> StackComponents:
    """Describe the engine components of a shelf stack (no engine calls, no side effects).

    Args:
        spec: The validated spec; Kitaru has checked that ``shelf_dir`` is given.

    Returns:
        An in-process ``local`` orchestrator and a ``local`` artifact store
        whose ``path`` is the absolute shelf directory, both named like the
        stack, with the user's ``--extra`` overrides applied.

    Raises:
        KitaruUsageError: When the directory is a URI, or ``--extra`` tries
            to move the artifact store's path.
    """
    return StackComponents(
        orchestrator=component_spec(spec, "orchestrator", LOCAL_FLAVOR),
        artifact_store=shelf_artifact_store(spec),
    )


def verify_shelf(spec: StackSpec) -> None:
    """Check, before anything is registered, that the shelf directory can be written.

    Raises:
        KitaruUsageError: Naming ``--shelf-dir`` when it is a file, sits under
            a file, or is not writable.
    """
    check_writable(shelf_path(spec.require(SHELF_DIR)))


SHELF_STACK_PROVIDER = StackProviderSpec(
    name=SHELF_STACK_TYPE,
    provider=None,  # no cloud: flows run in this process
    description="Runs flows in this process; artifacts in the directory given with --shelf-dir.",
    display_name="Shelf",
    fields=(SHELF_DIR_FIELD,),
    build_components=build_shelf_components,
    verify=verify_shelf,
)
"""The record :mod:`kitaru_example.plugin` registers."""
