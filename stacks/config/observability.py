"""The `observability` section of the stack config: metrics retention, who gets paged, Grafana's
sign-in, where logs go.

```yaml
mlplatform:observability:
  retentionDays: 30                 # Prometheus TSDB (on the stack's encrypted StorageClass)
  storageGi: 100
  inCountryDomains: [bank.ae]       # hosts receivers, the IdP and the SIEM may use
  runbookBaseUrl: https://wiki.bank.ae/mlplatform/runbooks.md
  receivers:                        # Alertmanager receivers, in-country only
    - name: platform-oncall
      webhook: {url: https://alerts.bank.ae/hooks/mlplatform}
    - name: risk-team
      email: {to: [risk-oncall@bank.ae], smarthost: smtp.bank.ae:587, from: mlplatform@bank.ae}
  routes:                           # first match wins; the rest go to defaultReceiver
    - {receiver: risk-team, matchers: {namespace: risk}}
  defaultReceiver: platform-oncall
  alerts: {p99LatencySeconds: 0.25, errorRatio: 0.02, ...}
  grafana:
    oidc: {issuerUrl: https://idp.bank.ae/realms/bank, clientId: mlplatform-grafana,
           clientSecret: grafana-oidc, adminGroup: mlplatform-admins}
  siem:                             # on-prem: where Fluent Bit ships container and audit logs
    host: siem.bank.ae
    port: 6514
    caSecret: siem-ca
```

Every host (webhook, e-mail relay and addresses, IdP, SIEM) must be in one of
`inCountryDomains` or the cluster (`*.svc`, `*.svc.cluster.local`): alerts and logs name
customers' models and namespaces, and never leave the country. Errors name the key and what is
allowed, like the rest of the config.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9-]{1,63})*$")
_NAME = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
    )


def host_allowed(host: str, domains: tuple[str, ...]) -> bool:
    """Whether `host` is in the cluster or under one of the in-country `domains`."""
    host = host.lower().rstrip(".")
    if host.endswith(CLUSTER_SUFFIXES):
        return True
    return any(host == d or host.endswith(f".{d}") for d in domains)


def _https_host(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL (TLS in transit)")
    return parts.hostname


class Webhook(_Model):
    url: str

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        _https_host(value)
        return value

    def hosts(self) -> list[str]:
        return [_https_host(self.url)]


class Email(_Model):
    to: Annotated[list[str], Field(min_length=1)]
    smarthost: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$")]
    from_: Annotated[str, Field(alias="from")]
    # STARTTLS is required (Alertmanager's require_tls); the relay's CA: a Secret key
    ca_secret: _NAME | None = None

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(r"[^@\s]+@[A-Za-z0-9.-]+", a)]
        if bad:
            raise ValueError(f"are not e-mail addresses: {bad}")
        return value

    def hosts(self) -> list[str]:
        return [
            self.smarthost.rsplit(":", 1)[0],
            self.from_.rsplit("@", 1)[-1],
            *(a.rsplit("@", 1)[1] for a in self.to),
        ]


class Receiver(_Model):
    name: _NAME
    webhook: Webhook | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _one_integration(self) -> Receiver:
        if (self.webhook is None) == (self.email is None):
            raise ValueError("needs exactly one of webhook or email")
        return self

    def hosts(self) -> list[str]:
        integration = self.webhook or self.email
        return integration.hosts() if integration else []


class Route(_Model):
    receiver: _NAME
    # label → value every alert of this route carries (Alertmanager matchers `label="value"`)
    matchers: Annotated[dict[str, str], Field(min_length=1)]
    continue_: Annotated[bool, Field(alias="continue")] = False

    @field_validator("matchers")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", k)]
        if bad:
            raise ValueError(f"are not Prometheus label names: {bad}")
        return value


class Alerts(_Model):
    """Where the platform's alerts fire (`components.observability.rules.AlertThresholds`)."""

    p99_latency_seconds: float = Field(default=0.25, gt=0, le=60)
    error_ratio: float = Field(default=0.02, gt=0, lt=1)
    lag_messages: int = Field(default=1000, ge=1)
    dead_letter_ratio: float = Field(default=0.01, gt=0, lt=1)
    queue_wait_seconds: int = Field(default=1800, ge=60)
    gpu_idle_percent: int = Field(default=5, ge=1, le=100)
    certificate_days: int = Field(default=14, ge=1, le=90)


class Oidc(_Model):
    """Grafana's sign-in through the bank's IdP (OAuth 2 / OpenID Connect, generic provider)."""

    issuer_url: str
    client_id: Annotated[str, Field(min_length=1)]
    # Secret in the monitoring namespace with key `client-secret` (never the value itself)
    client_secret: _NAME
    admin_group: Annotated[str, Field(min_length=1)]
    editor_group: str | None = None
    groups_claim: str = "groups"
    scopes: list[str] = ["openid", "profile", "email", "groups"]

    @field_validator("issuer_url")
    @classmethod
    def _https(cls, value: str) -> str:
        _https_host(value)
        return value.rstrip("/")

    def hosts(self) -> list[str]:
        return [_https_host(self.issuer_url)]


class Grafana(_Model):
    oidc: Oidc | None = None
    replicas: int = Field(default=1, ge=1, le=5)


class Siem(_Model):
    """The site's syslog/SIEM collector (RFC 5424 over TLS), on-prem log shipping's target."""

    host: str
    port: int = Field(default=6514, ge=1, le=65535)
    # Secret (key `ca.crt`) with the collector's CA; unset: the platform CA bundle verifies it
    ca_secret: _NAME | None = None
    format: Literal["rfc5424", "rfc3164"] = "rfc5424"

    def hosts(self) -> list[str]:
        return [self.host]


class Observability(_Model):
    retention_days: int = Field(default=30, ge=1, le=400)
    storage_gi: int = Field(default=100, ge=10)
    alertmanager_storage_gi: int = Field(default=10, ge=1)
    in_country_domains: list[str] = ["ae"]
    runbook_base_url: str = "docs/runbooks.md"
    receivers: list[Receiver] = []
    routes: list[Route] = []
    default_receiver: _NAME | None = None
    alerts: Alerts = Alerts()
    grafana: Grafana = Grafana()
    siem: Siem | None = None

    @field_validator("in_country_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not _DOMAIN.match(d.lower())]
        if bad or not value:
            raise ValueError(f"must be DNS domains (e.g. bank.ae), got {bad or value}")
        return [d.lower().strip(".") for d in value]

    @model_validator(mode="after")
    def _in_country_and_known(self) -> Observability:
        domains = tuple(self.in_country_domains)
        allowed = f"allowed: hosts under {', '.join(domains)} or the cluster (*.svc)"
        problems = [
            f"{where} names host '{host}' outside the country; {allowed}"
            for where, hosts in self._hosts()
            for host in hosts
            if not host_allowed(host, domains)
        ]
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            problems.append(f"receivers: names must be unique, got {names}")
        for i, route in enumerate(self.routes):
            if route.receiver not in names:
                problems.append(f"routes[{i}].receiver '{route.receiver}' is not a receiver")
        if self.default_receiver is not None and self.default_receiver not in names:
            problems.append(f"defaultReceiver '{self.default_receiver}' is not a receiver")
        if self.receivers and self.default_receiver is None:
            problems.append("defaultReceiver: required once receivers are configured")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _hosts(self) -> list[tuple[str, list[str]]]:
        found = [(f"receivers[{i}] ({r.name})", r.hosts()) for i, r in enumerate(self.receivers)]
        if self.grafana.oidc is not None:
            found.append(("grafana.oidc.issuerUrl", self.grafana.oidc.hosts()))
        if self.siem is not None:
            found.append(("siem.host", self.siem.hosts()))
        if "://" in self.runbook_base_url:
            found.append(("runbookBaseUrl", [_https_host(self.runbook_base_url)]))
        return found
