"""Helm's document split, found without backtracking (infra.render.strict_yaml): the same
documents as Helm's own separator, `(?:^|\\s*\\n)---\\s*`, on the cases Helm's split is known for
and on random texts made of the pieces that matter (dashes, newlines, indentation)."""

from __future__ import annotations

import random
import re

from infra.render.strict_yaml import load_all, split_documents

HELM_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def _helm(text: str) -> list[str]:
    return [part for part in HELM_SEPARATOR.split(text) if part.strip()]


def test_known_cases_split_as_helm_splits_them() -> None:
    cases = {
        "---\nkind: A\n---\nkind: B\n": ["kind: A", "kind: B\n"],
        "kind: A\n---# comment\nkind: B": ["kind: A", "# comment\nkind: B"],
        "kind: A  \n \t\n---  \nkind: B": ["kind: A", "kind: B"],
        "kind: A\n  \n\t---\nkind: B": ["kind: A\n  \n\t---\nkind: B"],  # not at a line start
        "kind: A\n----\nkind: B": ["kind: A", "-\nkind: B"],
        "a: '---'\nb: x --- y\n": ["a: '---'\nb: x --- y\n"],
        "kind: A\n---\n\n---\n": ["kind: A", "---\n"],  # the first separator took the newline
        "": [],
    }
    for text, documents in cases.items():
        assert split_documents(text) == documents == _helm(text), text


def test_random_texts_split_as_helm_splits_them() -> None:
    pieces = ["-", "---", "\n", " ", "\t", "\r\n", "a", "k: v", "\n---", " ---", "--- x", "\x0b"]
    rnd = random.Random(17)
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert split_documents(text) == _helm(text), repr(text)


def test_deep_indentation_splits_as_helm_splits_it() -> None:
    """What made Helm's expression slow in Python (it retries `\\s*` from inside every
    indentation run, and a rendered CRD is megabytes of them) splits the same way."""
    text = "kind: A\n" + "\n".join(" " * 400 + "x: 1" for _ in range(500)) + "\n  \n---\nkind: B\n"
    documents = split_documents(text)
    assert documents == _helm(text)
    assert [d.splitlines()[0] for d in documents] == ["kind: A", "kind: B"]
    loaded, _ = load_all("kind: A\n---\nkind: B\n")
    assert loaded == [{"kind": "A"}, {"kind": "B"}]
