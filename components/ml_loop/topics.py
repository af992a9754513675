"""The ML loop's Kafka topics for one tenant: names derived from the stream's input topic.

Every name is `<tenant>.`-prefixed, so the tenant's own Kafka access (Strimzi prefix ACLs, the
MSK IAM policy on `<tenant>.*`, its Event Hubs role assignments) covers them, and no loop
component writes a platform topic (issue 13: tenants read platform topics, never write them).
The targets create them exactly like the tenant's configured topics (`loop_topic_names` gives the
short names a stack adds to the tenant's list), so every Kafka variant has them.

| topic (short name) | written by | read by |
|---|---|---|
| `<input>` (e.g. `transactions`) | the bank's card switch | the stream processor |
| `<input>.dlq` | the stream processor (what it cannot process) | operators |
| `<input>.scored` | the predictor's prediction log | the drift monitor |
| `<input>.labels` | the bank's delayed ground truth | the performance monitor |
| `model-events` | the monitors (every verdict) | the model-events exporter |
| `model-drift-events` | the monitors (alarms only) | the tenant |
| `model-retraining-requests` | the monitors, an operator | the retraining controller |

The dead-letter rule is the stream processor's own (`workloads.settings.dead_letter_topic`:
`T` → `T.dlq`); it is restated here because the IaC environment does not import workloads, and
`tests/components/test_ml_loop.py` checks that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

DEAD_LETTER_SUFFIX = ".dlq"
MODEL_EVENTS = "model-events"
DRIFT = "model-drift-events"
RETRAINING = "model-retraining-requests"


def dead_letter(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def loop_topic_names(input_topic: str) -> tuple[str, ...]:
    """Short names (without the tenant prefix) the loop needs beside its input topic."""
    return (
        dead_letter(input_topic),
        f"{input_topic}.scored",
        f"{input_topic}.labels",
        MODEL_EVENTS,
        DRIFT,
        RETRAINING,
    )


@dataclass(frozen=True)
class LoopTopics:
    """Full topic names of one tenant's loop (what the pods' `MLP_TOPIC_*` say)."""

    transactions: str
    dead_letter: str
    scored: str
    labels: str
    model_events: str
    drift: str
    retraining: str

    @classmethod
    def for_tenant(cls, tenant: str, input_topic: str) -> LoopTopics:
        dlq, scored, labels, events, drift, retraining = (
            f"{tenant}.{short}" for short in loop_topic_names(input_topic)
        )
        return cls(
            transactions=f"{tenant}.{input_topic}",
            dead_letter=dlq,
            scored=scored,
            labels=labels,
            model_events=events,
            drift=drift,
            retraining=retraining,
        )

    def env(self) -> dict[str, str]:
        """Every `MLP_TOPIC_*` the workloads read (`workloads/settings.py`, `events.py`)."""
        return {
            "MLP_TOPIC_TRANSACTIONS": self.transactions,
            "MLP_TOPIC_DEAD_LETTER": self.dead_letter,
            "MLP_TOPIC_SCORED": self.scored,
            "MLP_TOPIC_LABELS": self.labels,
            "MLP_TOPIC_MODEL_EVENTS": self.model_events,
            "MLP_TOPIC_DRIFT": self.drift,
            "MLP_TOPIC_RETRAINING": self.retraining,
        }

    def all(self) -> tuple[str, ...]:
        return (
            self.transactions,
            self.dead_letter,
            self.scored,
            self.labels,
            self.model_events,
            self.drift,
            self.retraining,
        )
