"""Load a small YAML file from an untrusted folder, in bounded time and memory.

PyYAML's SafeLoader builds no arbitrary objects, but it follows aliases: a 1 KB
"billion laughs" document (anchors referencing anchors) expands to billions of values
in whatever walks the result, and deep nesting exhausts the recursion stack. The loader
below counts while composing, before anything is built: aliases, values once aliases
are expanded, and nesting depth. Each bound is a named limit (barometre/ingest/limits.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from barometre.ingest.errors import IngestError
from barometre.ingest.limits import MANIFEST_BYTES, YAML_ALIASES, YAML_DEPTH, YAML_NODES, Limit

_HINT = "write the values out plainly (a manifest needs no anchors, aliases or deep nesting)"


class _Exceeded(Exception):
    def __init__(self, limit: Limit, found: str) -> None:
        self.limit, self.found = limit, found


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses too many aliases, too many expanded values, too deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._max_aliases = YAML_ALIASES.value()
        self._max_nodes = YAML_NODES.value()
        self._max_depth = YAML_DEPTH.value()
        self._aliases = 0
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}
        """id(node) → number of values it stands for, aliases expanded"""

    def _count(self, values: int) -> None:
        self._expanded += values
        if self._expanded > self._max_nodes:
            raise _Exceeded(YAML_NODES, f"more than {self._max_nodes}")

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._max_aliases:
                raise _Exceeded(YAML_ALIASES, f"more than {self._max_aliases}")
            # types-PyYAML leaves Parser.peek_event unannotated (it returns an Event)
            event: yaml.AliasEvent = self.peek_event()  # type: ignore[no-untyped-call]
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._count(self._sizes.get(id(anchored), 1))
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self._max_depth:
            raise _Exceeded(YAML_DEPTH, f"more than {self._max_depth}")
        before = self._expanded
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._count(1)
        self._sizes[id(node)] = self._expanded - before
        return node


def read_bounded_text(path: Path) -> str:
    """The file's text, refused (without reading it all) beyond BAROMETRE_LIMIT_MANIFEST_BYTES."""
    limit = MANIFEST_BYTES.value()
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        size = path.stat().st_size
        raise MANIFEST_BYTES.refusal(
            size if size > limit else f"more than {limit}",
            file=path,
            hint="a manifest is a few kilobytes: check that this file is the edition's manifest",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"the file is not UTF-8 text (byte {exc.start})",
            file=path,
            hint="save manifest.yml as UTF-8",
        ) from None


def load_yaml(path: Path) -> Any:
    """Parse `path` as YAML within the limits; raise IngestError (one line) otherwise."""
    loader = _BoundedLoader(read_bounded_text(path))
    try:
        return loader.get_single_data()
    except _Exceeded as exc:
        raise exc.limit.refusal(exc.found, file=path, hint=_HINT) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        mark = getattr(exc, "problem_mark", None)
        raise IngestError(
            f"not valid YAML ({exc.__class__.__name__}: {first})",
            file=path,
            row=mark.line + 1 if mark is not None else None,
            hint="fix manifest.yml; its format is in docs/adding-an-edition.md",
        ) from None
    finally:
        loader.dispose()
