"""Sizes of a benchmark run: `quick` (CI-sized, under 10 minutes on 2 cores) and `full`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    customers: int  # synthetic bank customers (profiles in the online store)
    events: int  # card transactions streamed into Feast, then the training set
    backlog_events: int  # the freshness benchmark's own backlog (rate over a long drain)
    serving_seconds: float  # each load-generator run (V1/V2 x 1/8 clients)
    serving_iterations: int  # each in-process baseline
    probe_seconds: float  # freshness probing, per consumer under test
    probe_rate: float  # background events/s while probing (issue 17: 2,000)
    synth_sizes: tuple[int, ...]
    synth_repeats: int  # fresh processes per point (fastest time, median RSS)
    plan_tenants: tuple[int, ...]  # plan with rendering, simulation, access matrix (<= 200)
    train_seconds: float  # length of the bare loop the trainer is compared with
    ddp_seconds: float  # length of the DDP comparison runs (bare-loop equivalent)


QUICK = Mode(
    name="quick",
    customers=2000,
    events=20_000,
    backlog_events=100_000,
    serving_seconds=6.0,
    serving_iterations=2000,
    probe_seconds=15.0,
    probe_rate=2000.0,
    synth_sizes=(1, 10, 50, 100),
    synth_repeats=2,
    plan_tenants=(1, 50, 100, 200),
    train_seconds=120.0,  # issue 17: the instrumentation share of a run of >= 120 s
    ddp_seconds=6.0,
)

FULL = Mode(
    name="full",
    customers=5000,
    events=100_000,
    backlog_events=300_000,
    serving_seconds=20.0,
    serving_iterations=10_000,
    probe_seconds=60.0,
    probe_rate=2000.0,
    synth_sizes=(1, 10, 25, 50, 75, 100),
    synth_repeats=3,
    plan_tenants=(1, 25, 50, 100, 150, 200),
    train_seconds=180.0,
    ddp_seconds=20.0,
)

MODES = {m.name: m for m in (QUICK, FULL)}
