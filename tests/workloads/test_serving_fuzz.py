"""Fuzzing the model server: 1,200 generated malformed V1/V2 requests, none answered 5xx.

A seeded generator (reproducible, bounded in time) breaks valid requests on purpose at every
layer: the bytes (truncation, junk, invalid UTF-8, lone surrogates, BOM), the JSON (NaN,
Infinity, 400-digit integers, deep nesting), the V1 fields and the V2 tensors (types, shapes,
datatypes and their ranges, duplicated/unknown/missing inputs, ids, requested outputs), the
binary extension (header lengths, binary_data_size), sizes (bodies past the limit, declared or
chunked) and paths (other models and versions, explain, repository control). Issue 14's cases
are all in `issue_14_cases`, with the status each must get. Afterwards a valid request is still
served by the same process.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import Dataset, Service

from workloads.demo.traffic import v2_body

pytestmark = pytest.mark.slow
Server = tuple[str, Service]
MODEL = "card-risk-test"
V1 = f"/v1/models/{MODEL}:predict"
V2 = f"/v2/models/{MODEL}/infer"
GENERATED = 1200
LIMIT = 1024 * 1024  # the server's default MLP_SERVING_MAX_BODY_BYTES


@dataclass
class Case:
    label: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    expect: tuple[int, ...] | None = None  # None: any answer below 500


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def refused(label: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> Case:
    return Case(label, path, body, headers or {}, expect=(400,))


def _timestamp_cases(event: dict[str, Any]) -> list[Case]:
    """Near datetime's limits (500s at events.py:83 and vectors.py:54) and out of any sane
    window (years 0001 and 2300 were scored)."""
    cases = []
    for stamp in (
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-01:00",
        "2300-01-01T00:00:00Z",
    ):
        changed = {**event, "timestamp": stamp}
        cases.append(refused(f"v1 timestamp {stamp}", V1, dumps({"instances": [changed]})))
        cases.append(refused(f"v2 timestamp {stamp}", V2, dumps(v2_body([changed]))))
    return cases


def _number_cases(event: dict[str, Any]) -> list[Case]:
    """400-digit integers (a 500 on V2), NaN and Infinity, bare and inside a body."""
    big = "9" * 400
    one = {**event, "amount_aed": 1}
    v1_text = json.dumps({"instances": [one]}).replace('"amount_aed": 1', f'"amount_aed": {big}')
    v2_text = json.dumps(v2_body([one])).replace('"data": [1]', f'"data": [{big}]')
    shape = json.dumps(v2_body([event])).replace('"shape": [1]', f'"shape": [{big}]', 1)
    cases = [
        refused("v1 400-digit amount", V1, v1_text.encode()),
        refused("v2 400-digit amount", V2, v2_text.encode()),
        refused("v2 400-digit shape", V2, shape.encode()),
        refused("v1 NaN amount", V1, dumps({"instances": [{**event, "amount_aed": math.nan}]})),
        refused("v2 Infinity amount", V2, dumps(v2_body([{**event, "amount_aed": math.inf}]))),
    ]
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b'{"inputs": NaN}'):
        cases.append(refused(f"v1 bare {literal!r}", V1, literal))
        cases.append(refused(f"v2 bare {literal!r}", V2, literal))
    return cases


def _protocol_cases(event: dict[str, Any]) -> list[Case]:
    """Lone surrogates, malformed binary-extension headers, the V2 shape and datatype."""
    good_v2 = v2_body([event])
    body = json.dumps(good_v2).encode()
    escaped = json.dumps({"instances": [event]}).replace(event["customer_id"], "\\ud800")
    raw = body.replace(event["customer_id"].encode(), b"\xed\xa0\x80")
    cases = [
        refused("v1 lone surrogate (escaped)", V1, escaped.encode()),
        refused("v2 lone surrogate (raw bytes)", V2, raw),
        refused("v2 binary_data_size past the body", V2, *_binary(good_v2, oversize=True)),
    ]
    for length in ("abc", "-1", "1.5", "", "99999999", "1" * 40, f"{len(body)}0", "5"):
        header = {"inference-header-content-length": length}
        cases.append(refused(f"v2 binary header {length!r}", V2, body, header))
    shaped = {"inputs": [{**i, "shape": [7, 3]} for i in good_v2["inputs"]]}
    cases.append(refused("v2 shape ignored", V2, dumps(shaped)))
    uint8 = [
        {**i, "datatype": "UINT8", "data": [139.23]} if i["name"] == "amount_aed" else i
        for i in good_v2["inputs"]
    ]
    cases.append(refused("v2 139.23 as UINT8", V2, dumps({"inputs": uint8})))
    # JSON without the Content-Type KServe insisted on (tritonclient sends none): valid, served.
    plain = {"content-type": "text/plain"}
    cases += [
        Case("v2 JSON without Content-Type", V2, body, expect=(200,)),
        Case("v2 JSON as text/plain", V2, body, plain, expect=(200,)),
        Case("v1 JSON without Content-Type", V1, dumps({"instances": [event]}), expect=(200,)),
    ]
    return cases


def issue_14_cases(event: dict[str, Any]) -> list[Case]:
    """Every case issue 14 lists for the model server, with the answer it must get (the
    request size limit is `test_a_10_mb_body_gets_413_before_it_is_read`)."""
    return _timestamp_cases(event) + _number_cases(event) + _protocol_cases(event)


def _binary(good_v2: dict[str, Any], oversize: bool = False) -> tuple[bytes, dict[str, str]]:
    inputs, chunks = [], []
    for item in good_v2["inputs"]:
        if item["datatype"] == "BYTES":
            raw = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in item["data"])
        else:
            raw = struct.pack("<d", item["data"][0])
        size = len(raw) + (10_000 if oversize and item["name"] == "amount_aed" else 0)
        inputs.append(
            {k: v for k, v in item.items() if k != "data"}
            | {"parameters": {"binary_data_size": size}}
        )
        chunks.append(raw)
    header = json.dumps({"inputs": inputs}).encode()
    return header + b"".join(chunks), {"inference-header-content-length": str(len(header))}


JUNK_VALUES: list[Any] = [
    None, True, False, 0, -1, 10**30, 2**64, -(2**63) - 1, 1e308, -1e308, 0.5, 139.23, "", " ",
    "x" * 5000, "\u0000", "é", "2026-13-45T99:99:99Z", "NaN", [], [1], [[[]]], {}, {"a": {"b": {}}},
]  # fmt: skip
DATATYPES = [
    "BYTES",
    "FP64",
    "FP32",
    "FP16",
    "UINT8",
    "INT8",
    "INT64",
    "UINT64",
    "BOOL",
    "fp32",
    "STRING",
    "",
    None,
    3,
]


def _v1_mutation(rng: random.Random, event: dict[str, Any]) -> tuple[str, bytes]:
    instance = dict(event)
    kind = rng.randrange(5)
    name = rng.choice(list(event))
    if kind == 0:
        instance[name] = rng.choice(JUNK_VALUES)
    elif kind == 1:
        instance.pop(name)
    elif kind == 2:
        instance[rng.choice(["extra", name.upper(), ""])] = rng.choice(JUNK_VALUES)
        instance[name] = rng.choice(JUNK_VALUES)
    elif kind == 3:
        return "v1 instances junk", dumps({"instances": rng.choice(JUNK_VALUES)})
    else:
        return "v1 body junk", dumps(rng.choice([*JUNK_VALUES, {"instance": [event]}]))
    return f"v1 {name} mutated ({kind})", dumps({"instances": [instance] * rng.choice([1, 1, 2])})


def _v2_mutation(rng: random.Random, event: dict[str, Any]) -> tuple[str, bytes]:
    body = v2_body([event])
    inputs = body["inputs"]
    target = rng.choice(inputs)
    kind = rng.randrange(9)
    if kind == 0:
        target["datatype"] = rng.choice(DATATYPES)
    elif kind == 1:
        target["shape"] = rng.choice(
            [[], [0], [2], [1, 1], [-1], [1.5], "1", None, [2**70], [1] * 12]
        )
    elif kind == 2:
        target["data"] = rng.choice([*JUNK_VALUES, [rng.choice(JUNK_VALUES)]])
    elif kind == 3:
        target["parameters"] = rng.choice(
            [{"binary_data_size": rng.choice(JUNK_VALUES)}, [], "x", {"binary_data_size": 4}]
        )
    elif kind == 4:
        inputs.append(
            dict(target) if rng.random() < 0.5 else {**target, "name": rng.choice(["extra", "", 7])}
        )
    elif kind == 5:
        inputs.remove(target)
    elif kind == 6:
        body[rng.choice(["id", "parameters", "outputs", "inputs"])] = rng.choice(JUNK_VALUES)
    elif kind == 7:
        body["outputs"] = [
            {
                "name": rng.choice(["risk_score", "nope", 3]),
                "parameters": rng.choice([{"binary_data": rng.choice(JUNK_VALUES)}, {}, None]),
            }
        ]
    else:
        target["data"] = [rng.choice(JUNK_VALUES) for _ in range(rng.randrange(0, 3))]
        target["shape"] = [len(target["data"])]
    return f"v2 {target['name']} mutated ({kind})", dumps(body)


def _bytes_mutation(rng: random.Random, valid: bytes, amount: bytes) -> tuple[str, bytes, bool]:
    """(label, body, whether it can only be refused): a flipped byte may still be valid."""
    kind = rng.randrange(8)
    if kind == 0:
        return "truncated", valid[: rng.randrange(len(valid))], True
    if kind == 1:
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return "bytes flipped", bytes(data), False
    if kind == 2:
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        return "junk", b"\x00" + junk, True
    if kind == 3:
        return "BOM", b"\xef\xbb\xbf" + valid, True
    if kind == 4:
        depth = rng.choice([100, 1025, 5000, 50_000])
        opener = rng.choice([b"[", b'{"a":'])
        return f"nested {depth}", opener * depth, True
    if kind == 5:
        at = rng.randrange(len(valid))
        bad = rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80"])
        return "invalid UTF-8", valid[:at] + bad + valid[at:], True
    if kind == 6:
        literal = rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1" * 400, b"1e999"])
        return "amount literal", valid.replace(amount, literal, 1), True
    return "empty", b"", True


def generated_cases(event: dict[str, Any], count: int, seed: int = 14) -> Iterator[Case]:
    rng = random.Random(seed)
    valid_v1, valid_v2 = dumps({"instances": [event]}), dumps(v2_body([event]))
    for number in range(count):
        layer = number % 4
        if layer == 0:
            label, body = _v1_mutation(rng, event)
            yield Case(label, V1, body)
        elif layer == 1:
            label, body = _v2_mutation(rng, event)
            yield Case(label, V2, body)
        elif layer == 2:
            path = rng.choice([V1, V2])
            valid = valid_v1 if path == V1 else valid_v2
            label, body, refused = _bytes_mutation(rng, valid, dumps(event["amount_aed"]))
            yield Case(f"{path[:3]} {label}", path, body, expect=(400,) if refused else None)
        else:
            yield _edge_case(rng, event, valid_v2)


def _edge_case(rng: random.Random, event: dict[str, Any], valid_v2: bytes) -> Case:
    kind = rng.randrange(6)
    if kind == 0:
        length = rng.choice(["0", str(rng.randrange(len(valid_v2))), "x", "-5", str(2**70)])
        return Case(
            f"header length {length}", V2, valid_v2, {"inference-header-content-length": length}
        )
    if kind == 1:
        body, headers = _binary(v2_body([event]))
        cut = rng.randrange(len(body))
        return Case("binary truncated", V2, body[:cut], headers, expect=(400,))
    if kind == 2:
        path = rng.choice(
            [
                "/v1/models/other:predict",
                f"/v1/models/{MODEL}:explain",
                "/v2/models/other/infer",
                f"/v2/models/{MODEL}/versions/999/infer",
                f"/v2/repository/models/{MODEL}/unload",
                f"/v2/repository/models/{MODEL}/load",
            ]
        )
        return Case(f"path {path}", path, valid_v2, expect=(403, 404))
    if kind == 3:
        path = rng.choice(
            [
                f"/v2/models/{MODEL}/versions/999",
                f"/v2/models/{MODEL}/versions/999/ready",
                "/v2/models/other",
            ]
        )
        return Case(f"GET {path}", path, b"", method="GET", expect=(404,))
    if kind == 4:
        instances = [dict(event) for _ in range(rng.choice([1001, 1500]))]
        return Case("too many instances", V1, dumps({"instances": instances}), expect=(400,))
    return Case("body past the limit", rng.choice([V1, V2]), b" " * (LIMIT + 1), expect=(413,))


def raw_request(url: str, head: bytes, body: bytes) -> tuple[int, bytes, float]:
    """Send a request as written (lying Content-Length, chunked...); (status, body, seconds)."""
    host, port = url.removeprefix("http://").split(":")
    began = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
        head_part, _, rest = response.partition(b"\r\n\r\n")
        status = int(head_part.split(b" ", 2)[1])
        length = next(
            (
                int(line.split(b":")[1])
                for line in head_part.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return status, rest, time.monotonic() - began


def test_a_10_mb_body_gets_413_before_it_is_read(model_server: Server) -> None:
    url, _ = model_server
    size = 10 * 1024 * 1024
    head = f"POST {V2} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n"
    status, body, seconds = raw_request(url, head.encode(), b"[" * 65536)  # the rest never sent
    assert status == 413 and b"at most 1048576" in body
    assert len(body) < 300 and seconds < 5
    chunked = f"POST {V1} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    chunk = b" " * 65536
    frames = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    status, body, seconds = raw_request(url, chunked, frames)
    assert status == 413 and len(body) < 300 and seconds < 5
    bad_length = f"POST {V1} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode()
    status, _, _ = raw_request(url, bad_length, b"{}")
    assert status == 400


def test_compressed_bodies_are_bounded_after_inflating(
    model_server: Server, dataset: Dataset
) -> None:
    url, _ = model_server
    body = dumps({"instances": [dataset.events[-1]]})
    bomb = gzip.compress(b" " * (20 * LIMIT))  # about 20 KB that inflate to 20 MB
    with httpx.Client(base_url=url, timeout=30) as client:
        ok = client.post(V1, content=gzip.compress(body), headers={"content-encoding": "gzip"})
        deflated = client.post(
            V1, content=zlib.compress(body), headers={"content-encoding": "deflate"}
        )
        too_big = client.post(V1, content=bomb, headers={"content-encoding": "gzip"})
        broken = client.post(V1, content=b"not gzip", headers={"content-encoding": "gzip"})
        unknown = client.post(V1, content=body, headers={"content-encoding": "br"})
    assert ok.status_code == 200 and deflated.status_code == 200
    assert too_big.status_code == 413 and "inflates to more than" in too_big.json()["error"]
    assert broken.status_code == 400 and "not valid gzip" in broken.json()["error"]
    assert unknown.status_code == 415 and "gzip, deflate" in unknown.json()["error"]


def test_1200_generated_malformed_requests_get_no_5xx_and_the_server_keeps_serving(
    model_server: Server, dataset: Dataset
) -> None:
    url, server = model_server
    event = dataset.events[-1]
    cases = issue_14_cases(event) + list(generated_cases(event, GENERATED))
    assert len(cases) >= 1000
    failures, statuses = [], {}
    began = time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as client:
        for case in cases:
            response = client.request(
                case.method, case.path, content=case.body, headers=case.headers
            )
            status = response.status_code
            statuses[status] = statuses.get(status, 0) + 1
            wrong = status >= 500 or (case.expect is not None and status not in case.expect)
            if status >= 400 and (len(response.content) > 1000 or "error" not in response.json()):
                wrong = True  # an error names its problem briefly, never echoes the body
            if wrong:
                failures.append((case.label, case.path, status, response.text[:200]))
        ok = client.post(V1, json={"instances": [event]})
        ready = client.get("/v2/health/ready")
    assert not failures, f"{len(failures)} wrong answers, e.g. {failures[:5]}"
    assert ok.status_code == 200 and 0 <= ok.json()["predictions"][0]["risk_score"] <= 1
    assert ready.status_code == 200 and server.process.poll() is None
    assert {400, 404, 413} <= set(statuses), statuses
    assert time.monotonic() - began < 300
