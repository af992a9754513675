"""The model-events exporter: the monitors' verdicts as Prometheus metrics.

The drift and performance monitors run as a CronJob and publish each verdict on the platform's
model-events topic (`workloads.monitoring.events`); Prometheus cannot scrape a job that has
ended. This long-running process reads that topic from its beginning (every start: the gauges
are the latest verdict per model, rebuilt from the log, nothing committed) and serves:

| metric | extra labels | value |
|---|---|---|
| `mlplatform_model_drift_detected` | | 1 when the last drift verdict is `drift` |
| `mlplatform_model_drift_psi` | feature | PSI of each feature in that verdict |
| `mlplatform_model_drift_psi_threshold` | | the PSI threshold it used |
| `mlplatform_model_performance_degraded` | | 1 when the last verdict is `degraded` |
| `mlplatform_model_performance_metric` | metric | live ROC AUC, precision... |
| `mlplatform_model_performance_reference` | metric | the same on the held-out set |
| `mlplatform_model_event_timestamp_seconds` | type | when the last verdict was made |
| `mlplatform_model_events_total` | type, status | verdicts read |
| `mlplatform_model_events_invalid_total` | | messages that are not a verdict (skipped) |

Model metrics carry `tenant`, `model` and `model_version` (`tenant` is `-` when the verdict
names none; the timestamp has `tenant`, `model`, `type`).

Only the newest verdict of a model counts (by `occurred_at`); a new version replaces the
series of the one before. The alert rules (`components/observability/rules.py`) fire on the
`*_detected` / `*_degraded` gauges. `python -m workloads.model_metrics --port 9110`.
"""
