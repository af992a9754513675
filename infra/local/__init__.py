"""The embedded local platform behind `mlplatform local up | status | down | demo`.

Runs, on 127.0.0.1 only and in the background, what a tenant develops against: a
Kafka-protocol broker (tansu), an MLflow tracking server (sqlite, local artifacts), the Feast
feature server over a sqlite registry and online store, the KServe model server, the loop's
always-on half (the stream processor, Kafka → Feast, and the retraining controller, retraining
requests → training runs, as their Deployments in the cluster), and Prometheus with the
platform's own alert rules (plus the model-events exporter it scrapes). Every
workload process runs with the workloads environment's interpreter (`.venv-workloads`); this
package (IaC environment) never imports workload libraries: it starts processes, checks health
with the standard library, and records what it started under the state directory
(`.local-platform/` by default: pid records, logs, data; owner-only permissions).

- `state`: the state directory, its layout and the ports in use;
- `processes`: starting detached processes and stopping exactly those (PID reuse-safe);
- `services`: what each service is, how to start it and how to tell it is healthy;
- `platform`: bringing services up in order, their status, recovering a half-dead one;
- `prometheus`: the local Prometheus's configuration and rules, and its HTTP API;
- `loop`: the stream processor's progress and the retraining controller's runs, read from outside;
- `demo`: the golden path, step by step.

Its commands (`mlplatform local ...`) are in `infra.cli.local`.
"""
