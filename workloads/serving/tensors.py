"""Open Inference Protocol tensors on the wire: checked, decoded and encoded, model-independent.

What a V2 request may carry (https://github.com/kserve/open-inference-protocol, REST + the
binary tensor data extension) and what this module enforces before any model code sees it:

- `datatype` is one of the protocol's types (`DATATYPES`); `shape` a list of at most
  `MAX_DIMENSIONS` non-negative integers whose product is the number of elements sent;
- JSON `data` is a flat list or nested row-major lists as deep as the shape; every element fits
  its datatype: BOOL is true/false, an integer type takes integers in its range (139.23 is not a
  UINT8, nor is 256), FP16/FP32 finite numbers within their range, BYTES strings;
- binary data (header `Inference-Header-Content-Length`, input parameter `binary_data_size`):
  the JSON header length is an integer within the body, every binary input declares its size,
  the sizes add up to exactly the bytes after the header, fixed-size types have
  `elements * itemsize` bytes, BYTES elements are 4-byte little-endian length-prefixed and
  UTF-8, floats are finite, BOOL bytes are 0 or 1.

Every problem raises `TensorError` naming the input and what is allowed (the HTTP layer turns it
into a 400). Responses: `encode_outputs` writes JSON data, or binary data for the outputs the
client asked for in binary (`binary_data` per output, `binary_data_output` for all).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DIMENSIONS = 8
INTEGER_RANGES = {
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
}
FLOAT_LIMITS = {"FP16": 65504.0, "FP32": 3.4028234663852886e38, "FP64": math.inf}
NUMPY_TYPES = {
    "BOOL": "<u1",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
DATATYPES = (*NUMPY_TYPES, "BYTES")
NUMERIC = frozenset(INTEGER_RANGES) | frozenset(FLOAT_LIMITS)


class TensorError(ValueError):
    """The request's tensors break the protocol; `str()` names the input and the rule."""


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str
    shape: tuple[int, ...]
    values: list[Any]  # flat, row-major; BYTES as str


@dataclass(frozen=True)
class InferenceRequest:
    id: str | None
    inputs: list[Tensor]
    # output name -> binary data wanted (None: as `binary_default`); empty: every output
    outputs: dict[str, bool | None]
    binary_default: bool


def _quote(value: object) -> str:
    try:
        return f"{value!r:.60}"
    except ValueError:  # an int past Python's 4300-digit str() limit
        return f"<a {type(value).__name__} too long to show>"


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TensorError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _shape(name: str, raw: object) -> tuple[int, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_DIMENSIONS:
        raise TensorError(
            f"input '{name:.60}': 'shape' must be a list of at most {MAX_DIMENSIONS} "
            f"non-negative integers, got {_quote(raw)}"
        )
    for dim in raw:
        if type(dim) is not int or dim < 0:
            raise TensorError(
                f"input '{name:.60}': 'shape' dimensions must be non-negative integers, "
                f"got {_quote(dim)}"
            )
    return tuple(raw)


def _elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _flatten(name: str, data: list[Any], depth: int) -> list[Any]:
    """Row-major nested lists (at most `depth` levels) to a flat list, without recursion."""
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                if len(stack) >= depth:
                    raise TensorError(
                        f"input '{name:.60}': 'data' is nested deeper than its shape allows"
                    )
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def check_values(name: str, datatype: str, values: Sequence[Any]) -> None:
    """Every element fits the datatype (JSON values: bool, int, float, str)."""
    if datatype == "BYTES":
        bad = next((v for v in values if type(v) is not str), None)
        if bad is not None:
            raise TensorError(
                f"input '{name:.60}' is BYTES: elements must be strings, got {_quote(bad)}"
            )
    elif datatype == "BOOL":
        bad = next((v for v in values if type(v) is not bool), None)
        if bad is not None:
            raise TensorError(
                f"input '{name:.60}' is BOOL: elements must be true or false, got {_quote(bad)}"
            )
    elif datatype in INTEGER_RANGES:
        low, high = INTEGER_RANGES[datatype]
        for v in values:
            if type(v) is not int or not low <= v <= high:
                raise TensorError(
                    f"input '{name:.60}' is {datatype}: elements must be integers from {low} to "
                    f"{high}, got {_quote(v)}"
                )
    else:
        limit = FLOAT_LIMITS[datatype]
        for v in values:
            if type(v) not in (int, float) or not math.isfinite(v) or abs(v) > limit:
                raise TensorError(
                    f"input '{name:.60}' is {datatype}: elements must be finite numbers of at most "
                    f"{limit:g} in magnitude, got {_quote(v)}"
                )


def _binary_values(name: str, datatype: str, count: int, raw: bytes) -> list[Any]:
    if datatype == "BYTES":
        return _binary_strings(name, count, raw)
    itemsize = np.dtype(NUMPY_TYPES[datatype]).itemsize
    if len(raw) != count * itemsize:
        raise TensorError(
            f"input '{name:.60}': {count} {datatype} elements take {count * itemsize} bytes, "
            f"binary_data_size says {len(raw)}"
        )
    array = np.frombuffer(raw, dtype=NUMPY_TYPES[datatype])
    if datatype == "BOOL":
        if count and array.max() > 1:
            raise TensorError(f"input '{name:.60}' is BOOL: binary elements must be 0 or 1")
        return [bool(v) for v in array.tolist()]
    if datatype in FLOAT_LIMITS and not np.isfinite(array).all():
        raise TensorError(f"input '{name:.60}' is {datatype}: elements must be finite")
    return array.tolist()


def _binary_strings(name: str, count: int, raw: bytes) -> list[Any]:
    values, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise TensorError(f"input '{name:.60}': a BYTES element's 4-byte length is cut short")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise TensorError(f"input '{name:.60}': a BYTES element is longer than the data sent")
        try:
            values.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise TensorError(f"input '{name:.60}': a BYTES element is not UTF-8") from None
        offset += length
    if len(values) != count:
        raise TensorError(
            f"input '{name:.60}': shape says {count} elements, the binary data holds {len(values)}"
        )
    return values


def _tensor(raw: object, index: int, binary: memoryview, offset: int) -> tuple[Tensor, int]:
    spec = _mapping(raw, f"inputs[{index}]")
    name = spec.get("name")
    if type(name) is not str or not name:
        raise TensorError(f"inputs[{index}]: 'name' must be a non-empty string")
    datatype = spec.get("datatype")
    if datatype not in DATATYPES:
        raise TensorError(
            f"input '{name:.60}': 'datatype' must be one of {', '.join(DATATYPES)}, "
            f"got {_quote(datatype)}"
        )
    shape = _shape(name, spec.get("shape"))
    count = _elements(shape)
    parameters = _mapping(spec.get("parameters", {}), f"input '{name:.60}' parameters")
    size = parameters.get("binary_data_size")
    if size is not None:
        if "data" in spec:
            raise TensorError(f"input '{name:.60}' has both 'data' and binary_data_size")
        if type(size) is not int or size < 0 or offset + size > len(binary):
            raise TensorError(
                f"input '{name:.60}': binary_data_size must be an integer within the "
                f"{len(binary) - offset} binary bytes left, got {_quote(size)}"
            )
        values = _binary_values(name, datatype, count, bytes(binary[offset : offset + size]))
        return Tensor(name, datatype, shape, values), offset + size
    data = spec.get("data")
    if not isinstance(data, list):
        raise TensorError(f"input '{name:.60}' must carry its elements in 'data' as a JSON list")
    values = _flatten(name, data, max(len(shape), 1))
    if len(values) != count:
        raise TensorError(
            f"input '{name:.60}': shape {list(shape)} means {count} elements, "
            f"'data' has {len(values)}"
        )
    check_values(name, datatype, values)
    return Tensor(name, datatype, shape, values), offset


def _requested_outputs(request: Mapping[str, Any]) -> dict[str, bool | None]:
    raw = request.get("outputs", [])
    if not isinstance(raw, list):
        raise TensorError("'outputs' must be a list of {name, parameters} objects")
    wanted: dict[str, bool | None] = {}
    for index, item in enumerate(raw):
        spec = _mapping(item, f"outputs[{index}]")
        name = spec.get("name")
        if type(name) is not str:
            raise TensorError(f"outputs[{index}]: 'name' must be a string")
        parameters = _mapping(spec.get("parameters", {}), f"output '{name:.60}' parameters")
        binary = parameters.get("binary_data")
        if binary is not None and type(binary) is not bool:
            raise TensorError(f"output '{name:.60}': binary_data must be true or false")
        wanted[name] = binary
    return wanted


def decode_request(header: object, binary: bytes = b"") -> InferenceRequest:
    """An OIP inference request from its decoded JSON header and the binary bytes after it."""
    request = _mapping(header, "the V2 body")
    inputs_raw = request.get("inputs")
    if not isinstance(inputs_raw, list) or not inputs_raw:
        raise TensorError("the V2 body needs 'inputs', a non-empty list of tensors")
    request_id = request.get("id")
    if request_id is not None and type(request_id) is not str:
        raise TensorError(f"'id' must be a string, got {_quote(request_id)}")
    parameters = _mapping(request.get("parameters", {}), "'parameters'")
    view, offset, inputs = memoryview(binary), 0, []
    for index, raw in enumerate(inputs_raw):
        tensor, offset = _tensor(raw, index, view, offset)
        inputs.append(tensor)
    if offset != len(binary):
        raise TensorError(
            f"{len(binary) - offset} bytes of binary data after the JSON header belong to no "
            "input (binary_data_size)"
        )
    return InferenceRequest(
        request_id,
        inputs,
        _requested_outputs(request),
        parameters.get("binary_data_output", False) is True,
    )


def split_binary(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """(JSON header, binary data) of a body, per `Inference-Header-Content-Length`."""
    if header_length is None:
        return body, b""
    text = header_length.strip()
    if not text.isdigit() or len(text) > 18 or int(text) > len(body):
        raise TensorError(
            f"Inference-Header-Content-Length must be an integer from 0 to the body's "
            f"{len(body)} bytes, got {header_length!r:.40}"
        )
    return body[: int(text)], body[int(text) :]


@dataclass(frozen=True)
class Output:
    name: str
    datatype: str  # FP32, BOOL: the types this server answers with
    values: list[Any]


def check_requested_outputs(request: InferenceRequest, available: Sequence[str]) -> None:
    unknown = [name for name in request.outputs if name not in available]
    if unknown:
        raise TensorError(
            f"unknown output '{unknown[0]:.60}'; this model has: {', '.join(available)}"
        )


def encode_outputs(
    request: InferenceRequest, outputs: list[Output]
) -> tuple[list[dict[str, Any]], bytes]:
    """The response's output objects and the binary data that follows the JSON, if any (the
    requested outputs were checked with `check_requested_outputs`)."""
    encoded, chunks = [], []
    for output in outputs:
        if request.outputs and output.name not in request.outputs:
            continue
        item: dict[str, Any] = {
            "name": output.name,
            "datatype": output.datatype,
            "shape": [len(output.values)],
        }
        binary = request.outputs.get(output.name)
        if request.binary_default if binary is None else binary:
            raw = np.asarray(output.values, dtype=NUMPY_TYPES[output.datatype]).tobytes()
            item["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            item["data"] = output.values
        encoded.append(item)
    return encoded, b"".join(chunks)
