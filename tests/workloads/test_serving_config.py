"""The model server's settings and the canary guard's judgement, without servers."""

from __future__ import annotations

import pytest

from workloads.serving import rollout
from workloads.serving.config import ServingConfig


def test_defaults_and_values_from_the_environment() -> None:
    assert ServingConfig.from_env({}) == ServingConfig()
    config = ServingConfig.from_env(
        {
            "MLP_MODEL_POLL_SECONDS": "0",
            "MLP_SERVING_MAX_BODY_BYTES": "2048",
            "MLP_SERVING_ACCESS_LOG": "true",
            "MLP_PREDICTION_LOG_CAPACITY": "5",
        }
    )
    assert config == ServingConfig(0, 2048, True, 5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MLP_MODEL_POLL_SECONDS", "0.5", "use 0 \\(off\\) or 1 to 3600"),
        ("MLP_MODEL_POLL_SECONDS", "-1", "from 0 to 3600"),
        ("MLP_MODEL_POLL_SECONDS", "soon", "MLP_MODEL_POLL_SECONDS='soon'"),
        ("MLP_MODEL_POLL_SECONDS", "nan", "from 0 to 3600"),
        ("MLP_SERVING_MAX_BODY_BYTES", "10", "from 1024 to 6.7"),
        ("MLP_SERVING_MAX_BODY_BYTES", "1e12", "MLP_SERVING_MAX_BODY_BYTES"),
        ("MLP_SERVING_ACCESS_LOG", "yes please", "expected true or false"),
        ("MLP_PREDICTION_LOG_CAPACITY", "0", "from 1 to 1e"),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_is_allowed(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        ServingConfig.from_env({name: value})
    assert name in str(refused.value)


def metrics(requests: dict[str, float], buckets: dict[str, float], version: str = "3") -> str:
    lines = [
        "# TYPE card_risk_requests_total counter",
        *(f'card_risk_requests_total{{code="{c}",protocol="v1"}} {n}' for c, n in requests.items()),
        "# TYPE card_risk_request_seconds histogram",
        *(
            f'card_risk_request_seconds_bucket{{le="{b}",protocol="v1"}} {n}'
            for b, n in buckets.items()
        ),
        "# TYPE card_risk_model_served gauge",
        f'card_risk_model_served{{alias="challenger",model_version="{version}"}} 1.0',
        'card_risk_model_served{alias="challenger",model_version="1"} 0.0',
    ]
    return "\n".join(lines) + "\n"


BEFORE = metrics({"200": 100, "500": 0}, {"0.01": 100, "0.1": 100, "+Inf": 100})
LIMITS = rollout.Thresholds(max_error_rate=0.05, max_p99_seconds=0.05, min_requests=50)


def judge(after: str, before: str = BEFORE) -> tuple[str, list[str]]:
    first, second = rollout.parse_metrics(before), rollout.parse_metrics(after)
    health = rollout.health_between(first, second)
    return rollout.judge(health, first.versions != second.versions, LIMITS)


def test_a_healthy_window() -> None:
    after = metrics({"200": 300, "400": 50, "500": 2}, {"0.01": 350, "0.1": 352, "+Inf": 352})
    verdict, reasons = judge(after)
    assert (verdict, reasons) == ("healthy", [])  # 4xx are the clients' mistakes, not errors


def test_too_many_server_errors() -> None:
    after = metrics({"200": 150, "500": 20}, {"0.01": 170, "0.1": 170, "+Inf": 170})
    verdict, reasons = judge(after)
    assert verdict == "rolled_back" and reasons[0].startswith(
        "error rate 0.286 (20/70 answered 5xx)"
    )


def test_too_slow() -> None:
    after = metrics({"200": 200}, {"0.01": 150, "0.1": 190, "+Inf": 200})
    verdict, reasons = judge(after)
    assert verdict == "rolled_back" and "p99 latency" in reasons[0]
    health = rollout.health_between(rollout.parse_metrics(BEFORE), rollout.parse_metrics(after))
    assert health.p99_seconds == pytest.approx(0.1)  # past the last finite bucket: its bound


def test_too_little_traffic_or_a_swap_inside_the_window_is_inconclusive() -> None:
    few = metrics({"200": 120, "500": 20}, {"0.01": 140, "0.1": 140, "+Inf": 140})
    assert judge(few)[0] == "inconclusive"
    swapped = metrics({"200": 500, "500": 400}, {"+Inf": 900}, version="4")
    verdict, reasons = judge(swapped)
    assert verdict == "inconclusive" and "changed" in reasons[0]


def test_the_quantile_interpolates_inside_a_bucket() -> None:
    assert rollout._quantile(0.5, [(0.1, 0.0), (0.2, 10.0), (float("inf"), 10.0)]) == pytest.approx(
        0.15
    )
    assert rollout._quantile(0.99, []) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_error_rate": 1.5}, "max_error_rate 1.5 must be from 0 to 1"),
        ({"max_p99_seconds": 0}, "max_p99_seconds 0 must be above 0"),
        ({"min_requests": 0}, "min_requests 0 must be at least 1"),
    ],
)
def test_thresholds_refuse_values_that_cannot_work(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rollout.Thresholds(**kwargs)


def test_the_cluster_server_takes_the_port_flag_the_serving_runtime_passes() -> None:
    from workloads.serving.__main__ import _parser

    # components/serving.py runs `python -m workloads.serving cluster --http_port=8080`
    args, ignored = _parser().parse_known_args(["cluster", "--http_port=8099", "--grpc_port=1"])
    assert args.port == 8099 and ignored == ["--grpc_port=1"]
    assert _parser().parse_known_args(["cluster"])[0].port == 8080


def test_the_validator_bounds_are_resolved_when_the_predictor_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workloads.serving.predictor import CardRiskModel
    from workloads.settings import Settings

    monkeypatch.setenv("MLP_EVENTS_EARLIEST", "2026-11-21")
    assert CardRiskModel(Settings()).limits.earliest.day == 21
    monkeypatch.setenv("MLP_EVENTS_EARLIEST", "last tuesday")
    with pytest.raises(ValueError, match="MLP_EVENTS_EARLIEST"):
        CardRiskModel(Settings())
