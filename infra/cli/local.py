"""`mlplatform local`: the embedded local platform (typer sub-app).

    mlplatform local up      start broker, MLflow, Feast feature server, the stream processor
                             and the retraining controller, Prometheus (+ model server if a
                             champion exists) on 127.0.0.1, in the background
    mlplatform local status  health of each service
    mlplatform local down    stop exactly the processes `up`/`demo` started
    mlplatform local demo    the golden path end to end, with a summary

Exit codes: 0 ok; 1 a service or step failed, or (status) a started service is unhealthy or
dead (its process gone, whatever its workers still do) or nothing runs; 2 usage error (bad
option, workloads environment missing).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.status import Status
from rich.table import Table

from infra.cli.errors import EXIT_VIOLATIONS as EXIT_FAILED
from infra.cli.errors import console, errors, escape, fail, usage
from infra.local import demo as golden_path
from infra.local.platform import LocalPlatform, PlatformError, ServiceStatus
from infra.local.services import Workloads
from infra.local.state import DEFAULT_STATE_DIR, REPO_ROOT, Ports, StateDir

app = typer.Typer(
    name="local",
    help="The embedded local platform: broker, MLflow, Feast and KServe on 127.0.0.1.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

StateOpt = Annotated[
    Path,
    typer.Option("--state-dir", file_okay=False, help="PID records, logs and data (owner-only)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
BrokerPort = Annotated[
    int | None,
    typer.Option("--broker-port", min=1024, max=65535, help="Kafka broker (default 19092)."),
]
MlflowPort = Annotated[
    int | None,
    typer.Option(
        "--mlflow-port", min=1024, max=65535, help="MLflow tracking server (default 15000)."
    ),
]
FeastPort = Annotated[
    int | None,
    typer.Option(
        "--feature-server-port", min=1024, max=65535, help="Feast feature server (default 16566)."
    ),
]
ModelPort = Annotated[
    int | None,
    typer.Option(
        "--model-server-port", min=1024, max=65535, help="KServe model server (default 18080)."
    ),
]
PrometheusPort = Annotated[
    int | None,
    typer.Option("--prometheus-port", min=1024, max=65535, help="Prometheus (default 19090)."),
]
ModelMetricsPort = Annotated[
    int | None,
    typer.Option(
        "--model-metrics-port",
        min=1024,
        max=65535,
        help="model-events exporter (default 19110).",
    ),
]
StreamMetricsPort = Annotated[
    int | None,
    typer.Option(
        "--stream-metrics-port",
        min=1024,
        max=65535,
        help="stream processor's /metrics (default 19111).",
    ),
]
RetrainingMetricsPort = Annotated[
    int | None,
    typer.Option(
        "--retraining-metrics-port",
        min=1024,
        max=65535,
        help="retraining controller's /metrics (default 19112).",
    ),
]
PythonOpt = Annotated[
    Path | None,
    typer.Option(
        "--workloads-python",
        help="Interpreter of the workloads environment "
        "(default .venv-workloads/bin/python at the repository root).",
    ),
]


def _platform(
    state_dir: Path, python: Path | None, require_workloads: bool = True, **ports: int | None
) -> LocalPlatform:
    state = StateDir(state_dir)
    chosen = (state.saved_ports() or Ports()).merged(**ports)
    if len(set(asdict(chosen).values())) != len(asdict(chosen)):
        raise usage(f"the ports must differ, got {asdict(chosen)}")
    interpreter = python or REPO_ROOT / ".venv-workloads" / "bin" / "python"
    if require_workloads and not os.access(interpreter, os.X_OK):
        raise usage(
            f"--workloads-python: no workloads environment at {interpreter}; "
            "create it with `make .venv-workloads/.installed`"
        )
    return LocalPlatform(state, chosen, Workloads(interpreter, REPO_ROOT))


def _table(services: list[ServiceStatus]) -> Table:
    table = Table("service", "state", "pid", "endpoint", "detail")
    colours = {"healthy": "green", "unhealthy": "red", "dead": "red", "stopped": "dim"}
    for s in services:
        table.add_row(
            s.name,
            f"[{colours[s.state]}]{s.state}[/]",
            str(s.pid or "-"),
            s.url,
            escape(s.detail),
        )
    return table


def _fail(error: Exception) -> typer.Exit:
    """A service or step failed: its message (with the log lines it quotes), then what runs."""
    exit_ = fail(error, EXIT_FAILED)
    errors.print(
        "services started before the failure keep running: "
        "`mlplatform local status` shows them, `mlplatform local down` stops them",
        markup=False,
        highlight=False,
    )
    return exit_


@app.command()
def up(
    state_dir: StateOpt = DEFAULT_STATE_DIR,
    broker_port: BrokerPort = None,
    mlflow_port: MlflowPort = None,
    feature_server_port: FeastPort = None,
    model_server_port: ModelPort = None,
    prometheus_port: PrometheusPort = None,
    model_metrics_port: ModelMetricsPort = None,
    stream_metrics_port: StreamMetricsPort = None,
    retraining_metrics_port: RetrainingMetricsPort = None,
    workloads_python: PythonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start the local services in the background (idempotent)."""
    platform = _platform(
        state_dir,
        workloads_python,
        broker=broker_port,
        mlflow=mlflow_port,
        feature_server=feature_server_port,
        model_server=model_server_port,
        prometheus=prometheus_port,
        model_metrics=model_metrics_port,
        stream_metrics=stream_metrics_port,
        retraining_metrics=retraining_metrics_port,
    )
    out = errors if as_json else console
    try:
        with out.status("starting…") as status:
            services = platform.up(progress=lambda text: status.update(f"{escape(text)}…"))
    except PlatformError as error:
        raise _fail(error) from None
    if as_json:
        print(
            json.dumps(
                {"state_dir": str(platform.state.root), "services": [asdict(s) for s in services]}
            )
        )
        return
    console.print(_table(services))
    console.print(
        f"state and logs: {platform.state.root}; stop with `mlplatform local down`",
        markup=False,
        highlight=False,
    )


@app.command()
def status(state_dir: StateOpt = DEFAULT_STATE_DIR, as_json: JsonOpt = False) -> None:
    """Health of each service. Exit 1 if a started service is unhealthy or dead, or none runs."""
    platform = _platform(state_dir, None, require_workloads=False)
    services = platform.status()
    if as_json:
        print(
            json.dumps(
                {"state_dir": str(platform.state.root), "services": [asdict(s) for s in services]}
            )
        )
    else:
        console.print(_table(services))
    if not any(s.state == "healthy" for s in services) or any(
        s.state in ("unhealthy", "dead") for s in services
    ):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def down(state_dir: StateOpt = DEFAULT_STATE_DIR, as_json: JsonOpt = False) -> None:
    """Stop exactly the processes the local platform started (verified by PID and start time)."""
    platform = _platform(state_dir, None, require_workloads=False)
    stopped = platform.down()
    if as_json:
        print(json.dumps({"stopped": stopped}))
        return
    if not stopped:
        console.print("nothing was running")
    for name, pids in stopped.items():
        console.print(
            f"{name}: "
            + (f"stopped (pids {', '.join(map(str, pids))})" if pids else "was not running")
        )


class _Progress:
    """Prints one line per demo step, with a spinner while the step runs."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.status: Status | None = None

    def begin(self, number: int, total: int, title: str) -> None:
        self.status = self.out.status(f"\\[{number:2d}/{total}] {escape(title)}…")
        self.status.start()

    def end(self, number: int, total: int, title: str, seconds: float, detail: str) -> None:
        if self.status:
            self.status.stop()
        self.out.print(
            f"[green]✓[/] \\[{number:2d}/{total}] [bold]{escape(title)}[/] ({seconds:.1f} s)\n"
            f"        {escape(detail)}",
            highlight=False,
        )


def _summary(result: dict[str, Any]) -> Table:
    training, serving, drift = result["training"], result["serving"], result["drift"]
    drifted = drift["drifted"]
    table = Table("golden path", "result", title="summary", show_lines=False)
    table.add_row(
        "events",
        f"{result['produced']['events']} published, "
        f"{result['stream'].get('dead_lettered', 0)} malformed dead-lettered",
    )
    table.add_row(
        "features",
        f"{result['stream'].get('pushed_rows', 0)} rows pushed to Feast (online + offline)",
    )
    table.add_row(
        "model",
        f"{training['model_name']} v{training['version']} (champion), "
        f"held-out ROC AUC {training['holdout_roc_auc']:.3f}, "
        f"{training['world_size']} DDP workers",
    )
    for name in ("normal", "drifted"):
        s = serving[name]
        latency = "; ".join(
            f"{p}: p50 {v['p50']} ms, p95 {v['p95']} ms" for p, v in s["latency_ms"].items()
        )
        table.add_row(
            f"predictions ({name})", f"{s['transactions']} scored, {s['errors']} errors; {latency}"
        )
    table.add_row("drift (normal traffic)", drift["normal"]["status"])
    table.add_row(
        "drift (drifted traffic)",
        f"{drifted['status']}: "
        + ", ".join(f"{k} PSI {v['psi']}" for k, v in drifted["features"].items() if v["drifted"]),
    )
    table.add_row("drift event", f"{drifted.get('drift_event_id')} (+ retraining request)")
    run = result["retraining"]["run"]
    gate = (run.get("result") or {}).get("gate") or {}
    table.add_row(
        "retraining",
        f"run {run['run_id']} ({run['reason']}) {run['status']}: "
        f"v{(run.get('result') or {}).get('version')} "
        f"{'promoted' if gate.get('promoted') else 'not promoted'} ({gate.get('reason')}); "
        f"champion v{result['retraining']['champion_version']}",
    )
    if "rollback" in result:
        back = result["rollback"]
        table.add_row(
            "rollback",
            f"@champion v{back['from_version']} → v{back['to_version']}, served "
            f"{back['seconds']} s later without a restart",
        )
    table.add_row("wall time", f"{result['wall_seconds']} s")
    return table


@app.command()
def demo(
    state_dir: StateOpt = DEFAULT_STATE_DIR,
    broker_port: BrokerPort = None,
    mlflow_port: MlflowPort = None,
    feature_server_port: FeastPort = None,
    model_server_port: ModelPort = None,
    prometheus_port: PrometheusPort = None,
    model_metrics_port: ModelMetricsPort = None,
    stream_metrics_port: StreamMetricsPort = None,
    retraining_metrics_port: RetrainingMetricsPort = None,
    workloads_python: PythonOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
    events: Annotated[int, typer.Option(min=500, help="Transactions to generate.")] = 6000,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 8,
    training_processes: Annotated[
        int, typer.Option(min=1, help="DDP worker processes (torchrun --nproc_per_node).")
    ] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Run the golden path end to end on a fresh local platform; leaves it running."""
    platform = _platform(
        state_dir,
        workloads_python,
        broker=broker_port,
        mlflow=mlflow_port,
        feature_server=feature_server_port,
        model_server=model_server_port,
        prometheus=prometheus_port,
        model_metrics=model_metrics_port,
        stream_metrics=stream_metrics_port,
        retraining_metrics=retraining_metrics_port,
    )
    options = golden_path.DemoOptions(
        seed=seed, events=events, epochs=epochs, training_processes=training_processes
    )
    try:
        result = golden_path.run(platform, options, _Progress(errors if as_json else console))
    except PlatformError as error:
        raise _fail(error) from None
    if as_json:
        print(json.dumps(result, default=str))
        return
    console.print(_summary(result))
    console.print(
        f"the platform stays up ({platform.state.root}); stop it with `mlplatform local down`",
        markup=False,
        highlight=False,
    )
