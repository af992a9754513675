"""`python -m workloads.features`: render feature_store.yaml, apply the repo, load profiles."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from workloads.features import store_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.features", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("render-local", help="feature_store.yaml of the local platform")
    local.add_argument("--data-dir", type=Path, required=True)
    cluster = commands.add_parser("render-cluster", help="feature_store.yaml from the contract")
    cluster.add_argument("--contract", type=Path, required=True, help="tenant contract JSON")
    cluster.add_argument("--tenant", help="tenant name, when the file holds all tenants")
    cluster.add_argument("--out", type=Path, required=True)
    apply = commands.add_parser("apply", help="create offline tables and apply the definitions")
    apply.add_argument("--feature-store-yaml", type=Path, required=True)
    profiles = commands.add_parser("load-profiles", help="load a customer-profile parquet")
    profiles.add_argument("--feature-store-yaml", type=Path, required=True)
    profiles.add_argument("--profiles", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if args.command == "render-local":
        path = store_config.write(
            store_config.local_config(args.data_dir), args.data_dir / "feature_store.yaml"
        )
        print(json.dumps({"feature_store_yaml": str(path)}))
        return 0
    if args.command == "render-cluster":
        document = json.loads(args.contract.read_text())
        block = document
        if args.tenant:
            tenants = document.get("tenants", document)
            if args.tenant not in tenants:
                print(f"tenant {args.tenant!r} not in {args.contract}", file=sys.stderr)
                return 2
            block = tenants[args.tenant]
        try:
            config = store_config.cluster_config(block)
        except ValueError as error:
            print(f"{args.contract}: {error}", file=sys.stderr)
            return 2
        print(json.dumps({"feature_store_yaml": str(store_config.write(config, args.out))}))
        return 0

    # Feast is imported only for the commands that need it: rendering stays fast.
    from workloads.features import repository

    store = repository.open_store(args.feature_store_yaml)
    if args.command == "apply":
        print(json.dumps({"applied": repository.apply(store)}))
        return 0
    import pandas as pd

    count = repository.load_profiles(store, pd.read_parquet(args.profiles))
    print(json.dumps({"profiles": count}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
