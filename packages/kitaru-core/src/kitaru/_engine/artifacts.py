"""Save and find artifacts for ``kitaru.save()`` and ``kitaru.load()``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kitaru._engine.bootstrap import load_engine
from kitaru.errors import KitaruRuntimeError

ARTIFACT_TYPE_KEY = "kitaru_artifact_type"


def save_manual_artifact(name: str, value: Any, *, kind: str, tags: list[str] | None) -> None:
    """Save ``value`` as a manual artifact linked to the running checkpoint."""
    load_engine()
    from zenml import save_artifact

    from kitaru._engine.materializer import KitaruMaterializer

    save_artifact(
        value,
        name=name,
        tags=tags,
        user_metadata={ARTIFACT_TYPE_KEY: kind},
        materializer=KitaruMaterializer,
        include_visualizations=False,
    )


def _describe(step_name: str, artifact: Any) -> str:
    return f"step={step_name}, artifact={artifact.name}, save_type={artifact.save_type.value}"


def load_named_artifact(exec_id: str, name: str) -> Any:
    """Find the artifact called ``name`` in execution ``exec_id`` and load it."""
    load_engine()
    from zenml.client import Client
    from zenml.enums import ArtifactSaveType

    from kitaru._naming import sanitize_name

    run = Client().zen_store.get_run(UUID(exec_id), hydrate=True)
    matches: list[tuple[str, Any]] = []
    for step_name, step_run in run.steps.items():
        checkpoint_name = sanitize_name(step_name, fallback="checkpoint")
        for output_name, artifacts in step_run.outputs.items():
            for artifact in artifacts:
                if artifact.save_type == ArtifactSaveType.MANUAL:
                    found = artifact.name == name
                else:
                    found = name in (artifact.name, output_name, step_name, checkpoint_name)
                if found:
                    matches.append((step_name, artifact))
    if not matches:
        raise KitaruRuntimeError(
            f"No artifact named '{name}' was found in execution {exec_id}. Use the name "
            "given to kitaru.save() or a checkpoint name."
        )
    if len(matches) > 1:
        listing = "; ".join(_describe(step, artifact) for step, artifact in matches)
        raise KitaruRuntimeError(
            f"Multiple artifacts named '{name}' were found in execution {exec_id}. "
            f"Matches: {listing}"
        )
    return matches[0][1].load()
