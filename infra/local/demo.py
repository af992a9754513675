"""The golden path on the local platform: events → Kafka → Feast → PyTorch → MLflow → KServe,
and the loop back: drift → retraining request → the retraining controller's run → the gate.

Every step runs a production workload's own entrypoint (workloads environment) against the
local services; the only stand-ins are the bank's systems (the data generator plays the card
switch and the core-banking profile export, `workloads.demo traffic` plays the scoring client).

The stream processor and the retraining controller are always-on services of the platform (as
their Deployments in the cluster): the demo publishes the history and waits for the stream
processor to have pushed it (its /metrics); the live and the drifted day are replayed as the card
switch sends them (`workloads.demo live`: each scored transaction after its customer's earlier
ones are in Feast, so serving sees what training saw); after the drift check it waits for the
run the controller started on the drift's retraining request (over the settled transactions
under `<state>/labelled/`: the history and the drifted day's outcomes) and reports the gate's
decision. If the gate promoted the new version, the running model server serves it (it follows
`@champion`; same process) and the demo rolls it back by hand; otherwise there is nothing to
roll back and the step says so.

The demo starts from an empty platform: it stops what a previous run left and clears the
state directory's data (the local platform is a scratch area), then leaves the platform up
with the new champion served, for exploring; `mlplatform local down` stops it.

The demo fails (PlatformError) when an outcome it exists to show does not happen: a step
fails, a prediction errors, no champion is promoted, the drifted traffic raises no event,
Prometheus (the platform's alert rules over the model-events exporter) fires no drift alert, or
the controller starts no run on the drift's retraining request or its run fails.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from infra.local import loop, prometheus
from infra.local.platform import MODEL_NAME, LocalPlatform, PlatformError
from infra.local.services import HOST, NO_PROXY_OPENER
from infra.local.state import DATA_DIRS


class Reporter(Protocol):
    def begin(self, number: int, total: int, title: str) -> None: ...

    def end(self, number: int, total: int, title: str, seconds: float, detail: str) -> None: ...


@dataclass(frozen=True)
class DemoOptions:
    """The demo's sizes. The retraining run holds out the last 20 % of the settled
    transactions (history + drifted day) by time: the drifted day is more than a fifth of them, so
    its first part (its new fraud pattern's outcomes among them) is trained on and the rest judges
    the challenger against the champion (`workloads.training.dataset`). With `events` over four
    times `drift_events`, the whole drifted day is held out and retraining learns nothing new."""

    customers: int = 800
    events: int = 6000
    live_events: int = 1500
    drift_events: int = 3000
    poison_events: int = 12
    seed: int = 7
    epochs: int = 8
    training_processes: int = 2
    traffic: int = 400
    stream_timeout: float = 300.0  # seconds for the stream processor to push every event
    retraining_timeout: float = 900.0  # seconds for the retraining run to finish


STEPS = (
    "start the platform",
    "generate synthetic UAE card transactions",
    "load customer profiles into Feast",
    "publish events to Kafka",
    "stream events into Feast",
    "read online features from the Feast feature server",
    "train with DDP, register, gate and promote",
    "serve the champion",
    "score the live day as it streams (V1 and V2)",
    "check drift on normal traffic",
    "score the drifted day as it streams",
    "check drift on drifted traffic",
    "see the drift alert fire in Prometheus",
    "retrain on the drift's request: controller, training run, gate",
    "roll back by hand: re-point @champion",
)


def reset(platform: LocalPlatform) -> None:
    platform.down()
    for name in (*DATA_DIRS, "logs", "run"):
        shutil.rmtree(platform.state.path(name), ignore_errors=True)


def online_features(platform: LocalPlatform, customer_id: str) -> dict[str, Any]:
    """A customer's features as any client reads them: over HTTP from the Feast feature server."""
    request = urllib.request.Request(
        platform.service("feature-server").url + "/get-online-features",
        data=json.dumps(
            {"feature_service": "card_risk_v1", "entities": {"customer_id": [customer_id]}}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with NO_PROXY_OPENER.open(request, timeout=30) as response:
        answer = json.load(response)
    names = answer["metadata"]["feature_names"]
    return {n: r["values"][0] for n, r in zip(names, answer["results"], strict=True)}


class _GoldenPath:
    """The demo's steps, each a method returning its one-line detail; results go to `summary`."""

    def __init__(self, platform: LocalPlatform, options: DemoOptions) -> None:
        self.platform, self.options = platform, options
        self.wl = platform.workloads
        self.data = platform.state.path("demo") / "data"
        self.summary: dict[str, Any] = {}

    def steps(self) -> tuple[Callable[[], str], ...]:
        """The actions, in the order (and number) of `STEPS`."""
        return (
            self.start,
            self.generate,
            self.profiles,
            self.publish,
            self.stream,
            self.features,
            self.train,
            self.serve,
            self.traffic("normal", "live_events.jsonl", batch=1),
            self.check("normal", expect_drift=False),
            self.traffic("drifted", "drift_events.jsonl", batch=10, settled="drift_labelled"),
            self.check("drifted", expect_drift=True),
            self.drift_alert,
            self.retrain,
            self.rollback,
        )

    def start(self) -> str:
        reset(self.platform)
        self.platform.state.create()
        self.platform.state.save_training(self.options.epochs, self.options.seed)
        self.platform.up()
        return ", ".join(s.name for s in self.platform.status() if s.state == "healthy")

    def generate(self) -> str:
        o = self.options
        result = self.platform.run_step(
            "generate",
            self.wl.module(
                "workloads.data",
                "generate",
                *("--out-dir", str(self.data), "--customers", str(o.customers)),
                *("--events", str(o.events), "--drift-events", str(o.drift_events)),
                *("--live-events", str(o.live_events)),
                *("--seed", str(o.seed)),
            ),
        )
        self.summary["data"] = result
        # The settled transactions, where the retraining controller's runs read them.
        shutil.copy2(
            self.data / "labelled_transactions.parquet",
            self.platform.state.path("labelled") / "labelled_transactions.parquet",
        )
        return (
            f"{result['events']} transactions ({result['fraud_events']} fraudulent) of "
            f"{result['customers']} customers, {result['from'][:10]} to {result['to'][:10]}"
        )

    def profiles(self) -> str:
        result = self.platform.run_step(
            "load-profiles",
            self.wl.module(
                "workloads.features",
                "load-profiles",
                *("--feature-store-yaml", self.platform.env["MLP_FEATURE_STORE_YAML"]),
                *("--profiles", str(self.data / "customers.parquet")),
            ),
        )
        return f"{result['profiles']} profiles materialised online"

    def publish(self) -> str:
        o = self.options
        result = self.platform.run_step(
            "produce",
            self.wl.module(
                "workloads.data",
                "produce",
                *("--events", str(self.data / "events.jsonl")),
                *("--poison", str(o.poison_events), "--seed", str(o.seed)),
            ),
        )
        self.summary["produced"] = result
        return (
            f"{result['events']} events + {result['poison_events']} malformed to {result['topic']}"
        )

    def stream(self) -> str:
        """The always-on stream processor has read every published event (its /metrics)."""
        produced = self.summary["produced"]
        expected = int(produced["events"]) + int(produced["poison_events"])
        progress = wait_for_stream(self.platform, expected, self.options.stream_timeout)
        self.summary["stream"] = progress.as_dict()
        return (
            f"the stream processor pushed {progress.pushed_rows} feature rows in "
            f"{progress.batches} batches, dead-lettered {progress.dead_lettered} events; "
            f"consumer lag {progress.lag}"
        )

    def features(self) -> str:
        last = (self.data / "events.jsonl").read_text().splitlines()[-1]
        customer = json.loads(last)["customer_id"]
        values = online_features(self.platform, customer)
        self.summary["online_features"] = {"customer_id": customer, **values}
        return (
            f"{customer}: {values.get('txn_count_24h')} transactions / "
            f"AED {values.get('amount_sum_24h')} in 24 h, segment {values.get('segment')}"
        )

    def train(self) -> str:
        o = self.options
        work_dir = self.platform.state.path("demo") / "training" / "run-1"
        result = self.platform.run_step(
            "train",
            [
                str(self.wl.bin("torchrun")),
                *("--standalone", f"--nproc_per_node={o.training_processes}"),
                *("-m", "workloads.training"),
                *("--labelled", str(self.data / "labelled_transactions.parquet")),
                *("--work-dir", str(work_dir)),
                *("--epochs", str(o.epochs), "--seed", str(o.seed)),
            ],
        )
        self.summary["training"] = result
        if not result["gate"]["promoted"]:
            raise PlatformError(
                f"version {result['version']} was not promoted: {result['gate']['reason']}"
            )
        return (
            f"{MODEL_NAME} v{result['version']}: held-out ROC AUC "
            f"{result['holdout_roc_auc']:.3f}, AP {result['holdout_average_precision']:.3f}; "
            f"gate: promoted to champion ({result['gate']['reason']})"
        )

    def serve(self) -> str:
        self.platform.start_model_server()
        url = self.platform.service("model-server").url
        return f"{url} (v{self.platform.champion_version()})"

    def traffic(
        self, name: str, events: str, batch: int, settled: str | None = None
    ) -> Callable[[], str]:
        """A day replayed as the card switch sends it (`workloads.demo live`): every event goes
        through Kafka and the always-on stream processor into Feast, each scored transaction
        after its customer's earlier ones (no training/serving skew). `settled`: the day's
        outcomes, then put where retraining reads them (`<state>/labelled/`)."""

        def send() -> str:
            argv = self.wl.module(
                "workloads.demo",
                "live",
                *("--serving-url", self.platform.service("model-server").url),
                *("--events", str(self.data / events), "--count", str(self.options.traffic)),
                *("--batch", str(batch)),
            )
            result = self.platform.run_step(f"traffic-{name}", argv)
            self.summary.setdefault("serving", {})[name] = result
            latency = ", ".join(
                f"{p} p50 {v['p50']} ms / p95 {v['p95']} ms"
                for p, v in result["latency_ms"].items()
            )
            outcomes = ""
            if settled is not None:
                shutil.copy2(
                    self.data / f"{settled}.parquet",
                    self.platform.state.path("labelled") / f"{settled}.parquet",
                )
                outcomes = "; the day's outcomes settled for retraining"
            return (
                f"{result['transactions']} of {result['published']} streamed events scored in "
                f"{sum(result['requests'].values())} requests ({latency}); mean risk "
                f"{result['mean_risk_score']}{outcomes}"
            )

        return send

    def check(self, name: str, expect_drift: bool) -> Callable[[], str]:
        def run_check() -> str:
            result = self.platform.run_step(
                f"drift-{name}", self.wl.module("workloads.monitoring", "check")
            )
            self.summary.setdefault("drift", {})[name] = result
            psi = {k: v["psi"] for k, v in result.get("features", {}).items()}
            detected = result.get("status") == "drift"
            if expect_drift and not detected:
                raise PlatformError(f"drifted traffic raised no drift event: {result}")
            if detected:
                self.summary["drift"]["event"] = self.platform.run_step(
                    "drift-events",
                    self.wl.module("workloads.monitoring", "tail", "--topic", "drift"),
                )
            flagged = ", ".join(result.get("drifted_features", [])) or "none"
            return f"{result['status']}; drifted: {flagged}; PSI {psi}"

        return run_check

    def drift_alert(self) -> str:
        """The drift verdict as the platform's alerting sees it: the alert and its metrics."""
        alert = firing_drift_alert(self.platform)
        labels = alert["labels"]
        selector = f'{{model="{labels["model"]}",model_version="{labels["model_version"]}"}}'
        psi = prometheus_api(self.platform, "query", query=f"mlplatform_model_drift_psi{selector}")
        threshold = prometheus_api(
            self.platform, "query", query=f"mlplatform_model_drift_psi_threshold{selector}"
        )
        by_feature = {r["metric"]["feature"]: round(float(r["value"][1]), 3) for r in psi["result"]}
        limit = float(threshold["result"][0]["value"][1]) if threshold["result"] else None
        self.summary["alert"] = {
            "alert": alert,
            "psi": by_feature,
            "psi_threshold": limit,
            "prometheus": f"http://{HOST}:{self.platform.ports.prometheus}",
        }
        over = {f: v for f, v in by_feature.items() if limit is not None and v > limit}
        return (
            f"{labels['alertname']} {alert['state']} since {alert['activeAt'][:19]}Z "
            f"({labels['severity']}, team {labels['team']}): {alert['annotations']['summary']}; "
            f"mlplatform_model_drift_psi over {limit}: {over}; "
            f"runbook {alert['annotations']['runbook_url']}"
        )

    def retrain(self) -> str:
        """The controller's run on the drift's retraining request, to its end and the gate."""
        request_id = self.summary["drift"]["drifted"].get("retraining_request_id")
        if not request_id:
            raise PlatformError(f"the drift check requested no retraining: {self.summary['drift']}")
        server = self.platform.record("model-server")
        run = wait_for_retraining(self.platform, request_id, self.options.retraining_timeout)
        result = run.get("result") or {}
        gate, version = result.get("gate") or {}, str(result.get("version"))
        champion = self.platform.champion_version()
        self.summary["retraining"] = {
            "request_id": request_id,
            "run": run,
            "champion_version": champion,
            "served_versions": None,
            "model_server_pid": server.pid if server else None,
        }
        if gate.get("promoted") and champion is not None:
            served = wait_for_served(self.platform, champion, 60.0)
            if server is None or self.platform.record("model-server") != server:
                raise PlatformError("the model server was restarted to serve the new champion")
            self.summary["retraining"]["served_versions"] = sorted(served)
            decision = (
                f"promoted; the model server (pid {server.pid}) serves v{champion}, unrestarted"
            )
        else:
            decision = f"not promoted ({gate.get('reason')}); champion stays v{champion}"
        return (
            f"request {request_id[:8]}… → run {run['run_id']} ({run['reason']}, "
            f"{run['status']}): {MODEL_NAME} v{version}, held-out ROC AUC "
            f"{float(result.get('holdout_roc_auc') or 0):.3f}; gate: {decision}"
        )

    def rollback(self) -> str:
        """The documented manual rollback (`python -m workloads.serving rollback`): @champion
        goes back to the version the retrained one replaced, and the running model server
        serves it within seconds. Nothing to roll back when the gate kept the champion."""
        retraining = self.summary["retraining"]
        if retraining["served_versions"] is None:
            return f"nothing to roll back: the gate kept v{retraining['champion_version']}"
        began = time.monotonic()
        move = self.platform.run_step(
            "rollback",
            self.wl.module("workloads.serving", "rollback", "--reason", "local demo: rollback"),
        )
        served = wait_for_served(self.platform, str(move["to_version"]), 60.0)
        seconds = time.monotonic() - began
        server = self.platform.record("model-server")
        if server is None or server.pid != retraining["model_server_pid"]:
            raise PlatformError("the model server was restarted to serve the rolled-back version")
        self.summary["rollback"] = {
            **move,
            "served_versions": sorted(served),
            "seconds": round(seconds, 1),
        }
        return (
            f"@champion v{move['from_version']} → v{move['to_version']}; the model server "
            f"(pid {server.pid}) serves v{move['to_version']} {seconds:.1f} s later, unrestarted"
        )


def stream_progress(platform: LocalPlatform) -> loop.StreamProgress:
    url = platform.service("stream-processor").url + "/metrics"
    with NO_PROXY_OPENER.open(url, timeout=10) as response:
        return loop.stream_progress(response.read().decode())


def wait_for_stream(platform: LocalPlatform, expected: int, timeout: float) -> loop.StreamProgress:
    """The stream processor's counters once it has handled `expected` events and has no lag."""
    deadline = time.monotonic() + timeout
    while True:
        progress = stream_progress(platform)
        if progress.handled >= expected and progress.lag == 0:
            return progress
        if not platform.running("stream-processor"):
            raise PlatformError(
                "the stream processor stopped; see " + str(platform.state.log("stream-processor"))
            )
        if time.monotonic() > deadline:
            raise PlatformError(
                f"the stream processor handled {progress.handled} of {expected} events in "
                f"{timeout:.0f} s ({progress.as_dict()}); see "
                f"{platform.state.log('stream-processor')}"
            )
        time.sleep(0.5)


def wait_for_served(platform: LocalPlatform, version: str, timeout: float) -> set[str]:
    """The versions the model server serves once `version` is among them (it follows the
    `champion` alias by polling MLflow: no restart)."""
    deadline, url = time.monotonic() + timeout, platform.service("model-server").url + "/metrics"
    while True:
        with NO_PROXY_OPENER.open(url, timeout=10) as response:
            served = loop.served_versions(response.read().decode())
        if version in served:
            return served
        if time.monotonic() > deadline:
            raise PlatformError(
                f"the model server still serves {sorted(served)}, not the new champion "
                f"v{version}, after {timeout:.0f} s; see {platform.state.log('model-server')}"
            )
        time.sleep(0.5)


def wait_for_retraining(platform: LocalPlatform, request_id: str, timeout: float) -> dict[str, Any]:
    """The finished run the controller started for (or merged) `request_id`; PlatformError if
    none starts, it fails, or it outlasts `timeout`."""
    deadline, log = time.monotonic() + timeout, platform.state.log("retraining-controller")
    while True:
        run = loop.run_for_request(platform.state, request_id)
        if run is not None and run.get("status") == "succeeded":
            return run
        if run is not None and run.get("status") == "failed":
            work_dir = loop.runs_dir(platform.state) / f"run-{run['run_id']}"
            raise PlatformError(
                f"retraining run {run['run_id']} failed: {run.get('result')}; see "
                f"{work_dir / 'controller-run.log'}"
            )
        if time.monotonic() > deadline:
            where = "no run started" if run is None else f"run {run['run_id']} {run['status']}"
            raise PlatformError(
                f"retraining request {request_id}: {where} after {timeout:.0f} s; see {log}"
            )
        time.sleep(1.0)


def prometheus_api(platform: LocalPlatform, path: str, **query: str) -> Any:
    url = prometheus.api_url(HOST, platform.ports.prometheus, path, **query)
    with NO_PROXY_OPENER.open(url, timeout=10) as response:
        return prometheus.parse_api(response.read())


def firing_drift_alert(platform: LocalPlatform, timeout: float = 90.0) -> dict[str, Any]:
    """The firing `ModelDriftDetected` alert, waited for (scrape and rule evaluation: 5 s each)."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = prometheus_api(platform, "alerts")["alerts"]
        firing = [
            a
            for a in alerts
            if a["labels"].get("alertname") == "ModelDriftDetected" and a["state"] == "firing"
        ]
        if firing:
            return dict(firing[0])
        if time.monotonic() > deadline:
            raise PlatformError(
                f"Prometheus shows no firing ModelDriftDetected alert after {timeout:.0f} s "
                f"(alerts: {alerts}); see {platform.state.log('prometheus')} and "
                f"{platform.state.log('model-metrics')}"
            )
        time.sleep(1.0)


def run(platform: LocalPlatform, options: DemoOptions, reporter: Reporter) -> dict[str, Any]:
    """Every step of `STEPS` in order, each reported as it begins and ends; the summary."""
    began = time.monotonic()
    path = _GoldenPath(platform, options)
    actions = path.steps()
    for number, (title, action) in enumerate(zip(STEPS, actions, strict=True), start=1):
        reporter.begin(number, len(STEPS), title)
        started = time.monotonic()
        detail = action()
        reporter.end(number, len(STEPS), title, time.monotonic() - started, detail)
    summary = path.summary
    summary["wall_seconds"] = round(time.monotonic() - began, 1)
    summary["endpoints"] = {s.name: s.url for s in platform.status()}
    summary["host"] = HOST
    return summary
