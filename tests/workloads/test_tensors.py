"""Open Inference Protocol tensors: shapes, datatypes, the binary extension (model-independent)."""

from __future__ import annotations

from typing import Any

import pytest

from workloads.serving import tensors


def request(*inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"inputs": list(inputs), **extra}


def tensor(datatype: str, data: Any, shape: Any = None, name: str = "x") -> dict[str, Any]:
    return {
        "name": name,
        "datatype": datatype,
        "shape": [len(data)] if shape is None else shape,
        "data": data,
    }


@pytest.mark.parametrize(
    ("datatype", "data"),
    [
        ("UINT8", [0, 255]),
        ("INT8", [-128, 127]),
        ("UINT64", [2**64 - 1]),
        ("INT64", [-(2**63)]),
        ("FP16", [65504.0, -1]),
        ("FP32", [1.5, 3]),
        ("FP64", [1e308]),
        ("BOOL", [True, False]),
        ("BYTES", ["a", ""]),
    ],
)
def test_values_inside_each_datatype_are_accepted(datatype: str, data: list[Any]) -> None:
    (decoded,) = tensors.decode_request(request(tensor(datatype, data))).inputs
    assert decoded.values == data and decoded.shape == (len(data),)


@pytest.mark.parametrize(
    ("datatype", "data", "reason"),
    [
        ("UINT8", [139.23], "UINT8: elements must be integers from 0 to 255, got 139.23"),
        ("UINT8", [256], "from 0 to 255, got 256"),
        ("UINT8", [-1], "from 0 to 255"),
        ("UINT8", [True], "integers"),
        ("INT8", [128], "from -128 to 127"),
        ("UINT64", [2**64], "UINT64"),
        ("INT32", [1e30], "INT32: elements must be integers"),
        ("FP16", [70000.0], "FP16: elements must be finite numbers of at most 65504"),
        ("FP32", [1e39], "FP32"),
        ("FP64", ["1.0"], "FP64"),
        ("FP64", [None], "FP64"),
        ("FP64", [float("nan")], "finite"),
        ("BOOL", [1], "BOOL: elements must be true or false"),
        ("BYTES", [1], "BYTES: elements must be strings"),
    ],
)
def test_values_outside_their_datatype_are_refused(datatype: str, data: list, reason: str) -> None:
    with pytest.raises(tensors.TensorError, match=reason):
        tensors.decode_request(request(tensor(datatype, data)))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "the V2 body must be a JSON object"),
        ({}, "needs 'inputs'"),
        ({"inputs": []}, "needs 'inputs'"),
        ({"inputs": "x"}, "needs 'inputs'"),
        (request("x"), r"inputs\[0\] must be a JSON object"),
        (request({"datatype": "FP32", "shape": [1], "data": [1]}), "'name' must be"),
        (request(tensor("FLOAT", [1.0])), "'datatype' must be one of"),
        (request(tensor("FP32", [1.0], shape=[2])), r"shape \[2\] means 2 elements, 'data' has 1"),
        (request(tensor("FP32", [1.0], shape=[7, 3])), "means 21 elements"),
        (request(tensor("FP32", [1.0], shape=[-1])), "non-negative integers"),
        (request(tensor("FP32", [1.0], shape=[1.0])), "non-negative integers"),
        (request(tensor("FP32", [1.0], shape="1")), "'shape' must be a list"),
        (request(tensor("FP32", [1.0], shape=[1] * 9)), "at most 8"),
        (request(tensor("FP32", [1.0], shape=[2**64, 2**64])), "means"),
        (request(tensor("FP32", [[[1.0]]], shape=[1, 1])), "nested deeper than its shape"),
        (request({"name": "x", "datatype": "FP32", "shape": [1], "data": 1.0}), "JSON list"),
        (request(tensor("FP32", [1.0]), id=5), "'id' must be a string"),
        (request(tensor("FP32", [1.0]), parameters=[]), "'parameters' must be a JSON object"),
        (request(tensor("FP32", [1.0]), outputs="all"), "'outputs' must be a list"),
        (
            request(
                tensor("FP32", [1.0]), outputs=[{"name": "y", "parameters": {"binary_data": 1}}]
            ),
            "binary_data must be true or false",
        ),
    ],
)
def test_malformed_requests_name_their_problem(body: object, reason: str) -> None:
    with pytest.raises(tensors.TensorError, match=reason):
        tensors.decode_request(body)


def test_nested_row_major_data_is_flattened_within_its_shape() -> None:
    (decoded,) = tensors.decode_request(
        request(tensor("INT32", [[1, 2, 3], [4, 5, 6]], shape=[2, 3]))
    ).inputs
    assert decoded.values == [1, 2, 3, 4, 5, 6]


def test_messages_never_quote_the_input_at_length() -> None:
    huge = "x" * 100_000
    with pytest.raises(tensors.TensorError) as refused:
        tensors.decode_request(request(tensor("FP32", [huge]), id=None))
    assert len(str(refused.value)) < 300
    with pytest.raises(tensors.TensorError) as refused:
        tensors.decode_request(request(tensor("FLOAT", [1.0], name=huge)))
    assert len(str(refused.value)) < 300


def test_unknown_requested_outputs_are_refused_before_scoring() -> None:
    parsed = tensors.decode_request(
        request(tensor("FP32", [1.0]), outputs=[{"name": "probability"}])
    )
    with pytest.raises(tensors.TensorError, match="unknown output 'probability'"):
        tensors.check_requested_outputs(parsed, ["risk_score", "known_customer"])


def test_split_binary_reads_the_header_length() -> None:
    assert tensors.split_binary(b"{}abc", "2") == (b"{}", b"abc")
    assert tensors.split_binary(b"{}", None) == (b"{}", b"")
    for bad in ("-1", "1.5", "", " ", "3", "9" * 30):
        with pytest.raises(tensors.TensorError, match="Inference-Header-Content-Length"):
            tensors.split_binary(b"{}", bad)
