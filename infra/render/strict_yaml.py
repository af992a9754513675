"""Parsing rendered manifests strictly: every duplicate mapping key is found, not overwritten.

PyYAML (like many YAML libraries) keeps the last of two equal keys silently; the API server's
strict decoding, `kubectl apply --validate=strict` and server-side apply reject such objects.
`load_all` returns the documents of a rendered template and every duplicate key with its line,
so a check can name them. Documents are split the way Helm splits a rendered template
(`releaseutil.SplitManifests`: a `---` at a line start ends a document, even when a comment
follows on the same line), so what is parsed is what Helm would send.

Parsing is memoised on the text: the same template rendered the same way (a CRD, in every
variant of `plan --all`) is parsed once per process. The returned objects are shared: read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    line: int  # 1-based, in the rendered template
    document: int  # 0-based index of the document inside the template


class _StrictLoader(_Loader):  # type: ignore[valid-type,misc]
    """A SafeLoader that records duplicate keys instead of keeping the last one silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue
            if key in seen:
                self.duplicates.append((str(key), key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _StrictLoader.construct_mapping,
)


# Helm's separator (pkg/release/util/manifest.go): optional whitespace and a newline, `---`,
# then any whitespace.
_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def load_all(text: str) -> tuple[list[Any], list[DuplicateKey]]:
    """The documents in `text` (empty ones dropped) and every duplicate key found.

    Raises `yaml.YAMLError` when a document is not YAML.
    """
    documents, duplicates = _load_all(text)
    return list(documents), list(duplicates)


@lru_cache(maxsize=4096)
def _load_all(text: str) -> tuple[tuple[Any, ...], tuple[DuplicateKey, ...]]:
    documents: list[Any] = []
    duplicates: list[DuplicateKey] = []
    for index, part in enumerate(_SEPARATOR.split(text)):
        if not part.strip():
            continue
        loader = _StrictLoader(part)
        try:
            document = loader.get_single_data()
        finally:
            loader.dispose()
        duplicates += [DuplicateKey(key, line, index) for key, line in loader.duplicates]
        if document is not None:
            documents.append(document)
    return tuple(documents), tuple(duplicates)
