"""Parsing rendered manifests strictly: every duplicate mapping key is found, not overwritten.

PyYAML (like many YAML libraries) keeps the last of two equal keys silently; the API server's
strict decoding, `kubectl apply --validate=strict` and server-side apply reject such objects.
`load_all` returns the documents of a rendered template and every duplicate key with its line,
so a check can name them. Documents are split the way Helm splits a rendered template
(`releaseutil.SplitManifests`: a `---` at a line start ends a document, even when a comment
follows on the same line), so what is parsed is what Helm would send.

Parsing is memoised on the text: the same template rendered the same way (a CRD, in every
variant of `plan --all`) is parsed once per process. The returned objects are shared: read-only.
Large texts (CRDs: a chart's can be megabytes of YAML, seconds to construct in Python) are also
kept as JSON under `$MLP_CACHE` (default `~/.cache/mlplatform/yaml`), keyed by the text's
SHA-256, and only when JSON gives back exactly what YAML gave.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
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
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _StrictLoader.construct_mapping,
)
# YAML 1.1 resolves a bare `=` to its "value" tag, which SafeLoader cannot construct; Kubernetes
# reads it as the string "=" (kube-prometheus-stack's AlertmanagerConfig CRD has `enum: [=, ...]`).
_StrictLoader.add_constructor("tag:yaml.org,2002:value", _StrictLoader.construct_yaml_str)


# Helm's separator (pkg/release/util/manifest.go): `(?:^|\s*\n)---\s*` (RE2, linear). Python's
# backtracking engine retries `\s*` from every position of every indentation run (1.7 s over the
# CRD charts' text, per variant), so the matches are found from the literal `\n---` instead:
# each starts where the whitespace run before that newline starts, ends after the whitespace
# after the dashes. Same documents as the regular expression (tests/infra/test_render.py).
_DASHES = "---"


def _separators(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    done = 0
    if text.startswith(_DASHES):
        done = _after_space(text, len(_DASHES))
        found.append((0, done))
    at = text.find("\n" + _DASHES, done)
    while at != -1:
        begin = at
        while begin > done and text[begin - 1].isspace():
            begin -= 1
        done = _after_space(text, at + 1 + len(_DASHES))
        found.append((begin, done))
        at = text.find("\n" + _DASHES, done)
    return found


def _after_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _split(text: str) -> list[str]:
    """Every part between separators, empty ones included (as `re.split` would give them)."""
    parts, begin = [], 0
    for start, end in _separators(text):
        parts.append(text[begin:start])
        begin = end
    parts.append(text[begin:])
    return parts


def split_documents(text: str) -> list[str]:
    """The documents of a rendered template as Helm splits them (empty ones dropped)."""
    return [part for part in _split(text) if part.strip()]


def load_all(text: str) -> tuple[list[Any], list[DuplicateKey]]:
    """The documents in `text` (empty ones dropped) and every duplicate key found.

    Raises `yaml.YAMLError` when a document is not YAML.
    """
    documents, duplicates = _load_all(text)
    return list(documents), list(duplicates)


CACHE_ENV = "MLP_CACHE"
_DISK_MIN = 64 * 1024  # texts smaller than this parse faster than a file is read
_FORMAT = "1"


def cache_root() -> Path:
    """Where parsed texts are kept: `$MLP_CACHE`, else ~/.cache/mlplatform/yaml."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mlplatform" / "yaml")


def _cache_file(text: str) -> Path:
    digest = hashlib.sha256(f"{_FORMAT}\0{text}".encode()).hexdigest()
    return cache_root() / f"{digest}.json"


def cache_text(text: str) -> bool:
    """Parse `text` into the disk cache unless it is kept there already (or is too small to be
    kept); True when it was parsed now. Raises `yaml.YAMLError` when it is not YAML."""
    if len(text) < _DISK_MIN:
        return False
    path = _cache_file(text)
    if path.exists():
        return False
    _store(path, _parse(text))
    return True


@lru_cache(maxsize=4096)
def _load_all(text: str) -> tuple[tuple[Any, ...], tuple[DuplicateKey, ...]]:
    if len(text) < _DISK_MIN:
        return _parse(text)
    path = _cache_file(text)
    try:
        stored = json.loads(path.read_text())
        return tuple(stored["documents"]), tuple(DuplicateKey(*d) for d in stored["duplicates"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    parsed = _parse(text)
    _store(path, parsed)
    return parsed


def _store(path: Path, parsed: tuple[tuple[Any, ...], tuple[DuplicateKey, ...]]) -> None:
    documents, duplicates = parsed
    try:
        data = json.dumps(
            {"documents": documents, "duplicates": [list(d.__dict__.values()) for d in duplicates]}
        )
        if json.loads(data)["documents"] != list(documents):
            return  # YAML gave something JSON cannot hold (dates, non-string keys)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            partial.write_text(data)
            partial.replace(path)
        except BaseException:  # a stopped writer (`warmup`) leaves no partial file behind
            partial.unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        return  # a cache that cannot be written is only slower


def _parse(text: str) -> tuple[tuple[Any, ...], tuple[DuplicateKey, ...]]:
    documents: list[Any] = []
    duplicates: list[DuplicateKey] = []
    for index, part in enumerate(_split(text)):
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
