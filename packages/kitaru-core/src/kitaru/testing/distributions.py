"""Build throwaway distributions to test a plugin the way users install it.

A plugin is found through the ``kitaru`` entry-point group of an *installed
distribution*. To test that path without ``pip install``, write a minimal
distribution (a ``<name>-<version>.dist-info`` directory with ``METADATA`` and
``entry_points.txt``, plus the plugin's modules) into a temporary directory and
put that directory on ``sys.path`` or ``PYTHONPATH``; :mod:`importlib.metadata`
then sees it like any installed package::

    from kitaru.plugins import get_plugin_manager
    from kitaru.testing.distributions import make_distribution

    def test_my_plugin_is_found(tmp_path):
        dist = make_distribution(
            tmp_path,
            "kitaru-hello",
            modules={"kitaru_hello": '''
                import kitaru
                from kitaru.plugins import LogStoreSpec

                @kitaru.hookimpl
                def kitaru_log_stores():
                    yield LogStoreSpec(name="hello", requires_endpoint=False)
            '''},
            entry_points={"hello": "kitaru_hello"},
        )
        with dist.activated():  # on sys.path, plugin manager reset
            assert "hello" in get_plugin_manager().log_stores()

For a subprocess (``kitaru plugins``, a flow run), pass ``env=dist.env()``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kitaru.plugins import reset_plugin_manager

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_DISTRIBUTION_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class ThrowawayDistribution:
    """A distribution written by :func:`make_distribution`.

    Attributes:
        root: The directory to put on ``sys.path`` / ``PYTHONPATH``.
        name: The distribution name (``kitaru-hello``).
        version: Its version.
        dist_info: Its ``.dist-info`` directory.
        modules: The top-level modules and packages it installed.
    """

    root: Path
    name: str
    version: str
    dist_info: Path
    modules: tuple[str, ...]

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return an environment whose ``PYTHONPATH`` starts with :attr:`root`.

        Args:
            base: The environment to extend; defaults to ``os.environ``.

        Returns:
            A new mapping for ``subprocess.run(..., env=...)``.
        """
        env = dict(os.environ if base is None else base)
        parts = [str(self.root), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(parts)
        return env

    @contextmanager
    def activated(self) -> Iterator[ThrowawayDistribution]:
        """Make the distribution visible to this process for the ``with`` block.

        Puts :attr:`root` first on ``sys.path`` and resets Kitaru's plugin
        manager so the next :func:`~kitaru.plugins.get_plugin_manager` loads
        the plugin. On exit, removes the path, forgets the distribution's
        imported modules and resets the plugin manager again.

        Yields:
            This distribution.
        """
        sys.path.insert(0, str(self.root))
        importlib.invalidate_caches()
        reset_plugin_manager()
        try:
            yield self
        finally:
            while str(self.root) in sys.path:
                sys.path.remove(str(self.root))
            for module_name in list(sys.modules):
                if module_name.split(".")[0] in self.modules:
                    del sys.modules[module_name]
            importlib.invalidate_caches()
            reset_plugin_manager()


def make_distribution(
    root: os.PathLike[str] | str,
    name: str,
    *,
    modules: Mapping[str, str],
    entry_points: Mapping[str, str] | None = None,
    version: str = "1.0",
    group: str = "kitaru",
) -> ThrowawayDistribution:
    """Write a minimal installed distribution into ``root``.

    Args:
        root: An existing directory (usually pytest's ``tmp_path``).
        name: The distribution name, as in ``pyproject.toml`` (``kitaru-hello``).
        modules: Module name to source text. Dotted names create packages
            (``hello.plugin`` writes ``hello/__init__.py`` and
            ``hello/plugin.py``). Sources are dedented, so triple-quoted
            strings may be indented like the test around them.
        entry_points: Entry-point name to target (``"hello": "kitaru_hello"``);
            the name is the plugin name Kitaru shows. Defaults to none.
        version: The distribution version.
        group: The entry-point group; Kitaru reads ``kitaru``.

    Returns:
        The written distribution; put its ``root`` on the path to use it.

    Raises:
        ValueError: When a name is not a valid distribution or module name.
    """
    if not _DISTRIBUTION_NAME.match(name):
        raise ValueError(
            f"Invalid distribution name {name!r}: use letters, digits, '.', '_' and '-' "
            "(for example 'kitaru-hello')."
        )
    root_path = Path(root)
    top_level: list[str] = []
    # Deepest first, so a package's __init__ is written into its directory.
    for module_name, source in sorted(modules.items(), key=lambda item: -item[0].count(".")):
        if not _MODULE_NAME.match(module_name):
            raise ValueError(
                f"Invalid module name {module_name!r}: use a dotted Python name "
                "like 'hello.plugin'."
            )
        parts = module_name.split(".")
        if parts[0] not in top_level:
            top_level.append(parts[0])
        package_dir = root_path.joinpath(*parts[:-1])
        package_dir.mkdir(parents=True, exist_ok=True)
        for depth in range(1, len(parts)):
            init = root_path.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                init.write_text("")
        target = (
            package_dir / parts[-1] / "__init__.py"
            if (package_dir / parts[-1]).is_dir()
            else package_dir / f"{parts[-1]}.py"
        )
        target.write_text(textwrap.dedent(source).lstrip("\n"))

    normalized = re.sub(r"[-_.]+", "_", name).lower()
    dist_info = root_path / f"{normalized}-{version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    lines = [f"[{group}]"] + [f"{ep} = {target}" for ep, target in (entry_points or {}).items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist_info / "top_level.txt").write_text("\n".join(top_level) + "\n")
    return ThrowawayDistribution(
        root=root_path,
        name=name,
        version=version,
        dist_info=dist_info,
        modules=tuple(top_level),
    )
