"""`python -m workloads.data`: generate the synthetic data set, or publish events to Kafka.

generate  writes, under --out-dir:
            customers.parquet               customer profiles (batch feature source)
            events.jsonl                    the transaction stream (no labels)
            labelled_transactions.parquet   the same transactions with their fraud outcome
            live_events.jsonl               the next day's transactions, to score live
            drift_events.jsonl              the day after, with shifted distributions and a
                                            new fraud pattern (generator.DriftProfile)
            drift_labelled.parquet          its outcomes
produce   publishes a JSON-lines file of events (plus optional poison events) to a topic.

Endpoints come from the environment (`workloads.settings`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from workloads.data import generator
from workloads.settings import Settings


def _generate(args: argparse.Namespace) -> dict:
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC).replace(microsecond=0)
    # History ends two days ago: the live day and the drifted day after it end by now (the
    # validator refuses transactions from the future).
    end = datetime.fromisoformat(args.end) if args.end else now - timedelta(days=2)
    customers = generator.make_customers(args.customers, args.seed)
    history = generator.generate_transactions(customers, args.events, args.seed, end)
    # The day after the history: transactions to score live, as they arrive (not yet streamed);
    # then the day after that, with shifted distributions. Two days in a row, not one day twice:
    # the live replay streams both into Feast, and a customer's events must stay in time order.
    live = generator.generate_transactions(
        customers,
        args.drift_events if args.live_events is None else args.live_events,
        args.seed + 1,
        end + timedelta(days=1),
        timedelta(days=1),
    )
    drifted = generator.generate_transactions(
        customers,
        args.drift_events,
        args.seed,
        end + timedelta(days=2),
        span=timedelta(days=1),
        drift=generator.DriftProfile(),
    )
    # Profiles are the bank's snapshot from before the stream starts.
    as_of = min(row["timestamp"] for row in history) - timedelta(days=1)
    pd.DataFrame(generator.customer_profiles(customers, as_of)).to_parquet(
        out / "customers.parquet", index=False
    )
    for name, rows in (("events", history), ("live_events", live), ("drift_events", drifted)):
        with open(out / f"{name}.jsonl", "w") as handle:
            for row in rows:
                handle.write(json.dumps(generator.to_event(row)) + "\n")
    pd.DataFrame(history).to_parquet(out / "labelled_transactions.parquet", index=False)
    pd.DataFrame(drifted).to_parquet(out / "drift_labelled.parquet", index=False)
    return {
        "customers": len(customers),
        "events": len(history),
        "fraud_events": sum(row["is_fraud"] for row in history),
        "live_events": len(live),
        "drift_events": len(drifted),
        "from": generator.iso_utc(history[0]["timestamp"]),
        "to": generator.iso_utc(history[-1]["timestamp"]),
        "out_dir": str(out),
    }


def _produce(args: argparse.Namespace) -> dict:
    from workloads.data.producer import produce, transaction_messages

    settings = Settings.from_env()
    topic = args.topic or settings.topics.transactions
    with open(args.events) as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    count = produce(settings, topic, transaction_messages(events))
    poison = generator.poison_events(args.seed, args.poison)
    produce(settings, topic, ((None, value) for value in poison))
    return {"topic": topic, "events": count, "poison_events": len(poison)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write the synthetic data set")
    generate.add_argument("--out-dir", type=Path, required=True)
    generate.add_argument("--customers", type=int, default=800)
    generate.add_argument("--events", type=int, default=6000)
    generate.add_argument(
        "--drift-events",
        type=int,
        default=1500,
        help="transactions in the drifted file (and the live file, unless --live-events)",
    )
    generate.add_argument("--live-events", type=int, help="transactions in the live file")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--end", help="ISO time the history ends at (default: two days ago)")
    produce = commands.add_parser("produce", help="publish events to Kafka")
    produce.add_argument("--events", type=Path, required=True)
    produce.add_argument("--topic", help="default: the transactions topic")
    produce.add_argument("--poison", type=int, default=0, help="malformed events to add")
    produce.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = _generate(args) if args.command == "generate" else _produce(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
