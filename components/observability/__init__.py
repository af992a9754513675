"""Observability: what the platform measures, when it pages, and where its logs go.

| module | what |
|---|---|
| `metrics` | every exporter the stack scrapes and the metric families it serves |
| `promql` | the metric names a PromQL expression reads (queries checked against `metrics`) |
| `rules` | the alert and recording rules (PrometheusRule, the local Prometheus, promtool tests) |
| `alerting` | who gets paged: the Alertmanager configuration from the stack's routing |
| `dashboards` | the Grafana dashboards, generated as Grafana's JSON model |
"""
