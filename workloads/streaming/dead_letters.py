"""Dead letters: the events the stream processor cannot process, kept with why and where from.

Naming rule: every input topic `T` has its dead-letter topic `T.dlq` (`dead_letter_topic`), so
`card-transactions` → `card-transactions.dlq`. The platform creates it beside its input topic.

A dead letter is the original message unchanged (same key, same value bytes, same headers), with
these headers added (the convention of Kafka Connect's dead-letter queues):

- `dlq.reason`: why: the validator's message (names the field), or `<Exception>: <message>`;
- `dlq.error.class`: the exception's class, e.g. `InvalidTransaction`, `OverflowError`;
- `dlq.source.topic`, `dlq.source.partition`, `dlq.source.offset`, `dlq.source.timestamp`
  (ms since the epoch): where it was read;
- `dlq.truncated`, only for a value over `MAX_EVENT_BYTES`: its original size (the value is cut
  to the limit; the whole event stays on the input topic at its source coordinates).

Replaying a dead letter is producing its key and value to the source topic again. Dead letters
are written at least once: a processor killed after its dead letters were acknowledged and
before its batch was committed writes them again on restart; the source coordinates identify
such duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from workloads.data.events import MAX_EVENT_BYTES
from workloads.settings import dead_letter_topic

__all__ = ["DeadLetter", "dead_letter", "dead_letter_topic"]

HEADER_PREFIX = "dlq."
MAX_REASON_BYTES = 1000


def _header(value: object, limit: int = MAX_REASON_BYTES) -> bytes:
    return str(value).encode("utf-8", errors="backslashreplace")[:limit]


def dead_letter(message: Message, reason: str, error_class: str) -> dict[str, Any]:
    """The keyword arguments of `Producer.produce` that dead-letter `message`."""
    value = message.value()
    headers = [(k, v) for k, v in (message.headers() or []) if not k.startswith(HEADER_PREFIX)]
    _, timestamp = message.timestamp()
    headers += [
        ("dlq.reason", _header(reason)),
        ("dlq.error.class", _header(error_class, 200)),
        ("dlq.source.topic", _header(message.topic())),
        ("dlq.source.partition", _header(message.partition())),
        ("dlq.source.offset", _header(message.offset())),
        ("dlq.source.timestamp", _header(timestamp)),
    ]
    if value is not None and len(value) > MAX_EVENT_BYTES:
        headers.append(("dlq.truncated", _header(len(value))))
        value = value[:MAX_EVENT_BYTES]
    return {
        "topic": dead_letter_topic(str(message.topic())),
        "key": message.key(),
        "value": value,
        "headers": headers,
    }


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter as read back from its topic."""

    reason: str
    error_class: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    truncated_from: int | None = None

    @classmethod
    def from_message(cls, message: Message) -> DeadLetter | None:
        """None for a message that is not a dead letter (it lacks the `dlq.*` headers)."""
        headers: Mapping[str, bytes] = {
            k: v or b"" for k, v in (message.headers() or []) if k.startswith(HEADER_PREFIX)
        }
        try:
            truncated = headers.get("dlq.truncated")
            return cls(
                reason=headers["dlq.reason"].decode(errors="replace"),
                error_class=headers["dlq.error.class"].decode(errors="replace"),
                topic=headers["dlq.source.topic"].decode(errors="replace"),
                partition=int(headers["dlq.source.partition"]),
                offset=int(headers["dlq.source.offset"]),
                key=message.key(),
                value=message.value(),
                truncated_from=int(truncated) if truncated else None,
            )
        except (KeyError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        """What `tail` and the inspection readers show: the reason, the source, the payload."""
        return {
            "reason": self.reason,
            "error_class": self.error_class,
            "source": {"topic": self.topic, "partition": self.partition, "offset": self.offset},
            "payload": (self.value or b"").decode("utf-8", errors="replace"),
            **({"truncated_from": self.truncated_from} if self.truncated_from else {}),
        }
