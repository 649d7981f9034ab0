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


def load_artifact_value(artifact: Any, what: str) -> Any:
    """Load an artifact's value, turning any failure into a clear Kitaru error.

    Args:
        artifact: The engine artifact version.
        what: What is being loaded, for the message ("the output of checkpoint `x`").

    Raises:
        KitaruRuntimeError: Naming ``what``, the stored type and the fix.
    """
    try:
        return artifact.load()
    except Exception as exc:
        data_type = getattr(getattr(artifact, "data_type", None), "import_path", None) or "unknown"
        root = exc
        while root.__cause__ is not None and not isinstance(root, KitaruRuntimeError):
            root = root.__cause__  # the engine re-wraps; report the original problem
        detail = str(root) if isinstance(root, KitaruRuntimeError) else f"{type(root).__name__}: {root}"
        raise KitaruRuntimeError(
            f"Could not load {what}: the stored value has type '{data_type}'. {detail}. "
            "Run from a directory where the module defining that type is importable, or "
            "install the plugin whose serializer wrote it."
        ) from exc


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
    step_name, artifact = matches[0]
    return load_artifact_value(artifact, f"artifact '{name}' of checkpoint `{step_name}`")
