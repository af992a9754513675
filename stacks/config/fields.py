"""Field types for the stack configuration: constrained strings with errors that say what is
allowed (DNS labels and names, non-empty label values and strings, quantities, CIDRs, ARNs,
UUIDs)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator

from stacks.config.quantity import parse_quantity

DataClass = Literal["public", "internal", "confidential", "restricted"]
Target = Literal["onprem", "cloud"]
Cloud = Literal["aws", "azure"]

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_ARN_ROLE = re.compile(r"^arn:aws:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
_DNS_NAME_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _dns_label(max_len: int):
    def check(value: str) -> str:
        if len(value) > max_len or not _DNS_LABEL.match(value):
            raise ValueError(
                f"is not a DNS label; allowed: lowercase letters, digits and '-', "
                f"starting with a letter, at most {max_len} characters"
            )
        return value

    return AfterValidator(check)


def _label_value(value: str) -> str:
    if not value:
        raise ValueError("must not be empty (it labels and tags every resource)")
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise ValueError(
            "cannot be a Kubernetes label value; allowed: at most 63 characters of "
            "letters, digits, '-', '_' and '.', starting and ending alphanumeric"
        )
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _dns_name(value: str) -> str:
    labels = value.split(".")
    valid = all(len(label) <= 63 and _DNS_NAME_LABEL.match(label) for label in labels)
    if len(value) > 253 or len(labels) < 2 or not valid:
        raise ValueError(
            "is not a DNS name; allowed: at least two dot-separated labels of lowercase "
            "letters, digits and '-' (1-63 characters each), e.g. models.bank.internal"
        )
    return value


def _quantity(value: str | int) -> str:
    parse_quantity(value)
    return str(value)


def Cidr(max_prefix: int) -> AfterValidator:
    """A private IPv4 range of at least /max_prefix."""

    def check(value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError("is not an IPv4 CIDR such as 10.40.0.0/16") from None
        if not network.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        if network.prefixlen > max_prefix:
            raise ValueError(f"is too small; allowed: /{max_prefix} or larger (e.g. /16)")
        return value

    return AfterValidator(check)


def _role_arn(value: str) -> str:
    if not _ARN_ROLE.match(value):
        raise ValueError("is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return value


def is_uuid(value: str) -> bool:
    """A lowercase UUID, the form Entra ID object IDs take."""
    return bool(_UUID.match(value))


def _uuid(value: str) -> str:
    if not _UUID.match(value):
        raise ValueError("is not a lowercase UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value


DnsLabel = Annotated[str, _dns_label(63)]
ShortName = Annotated[str, _dns_label(30)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
NonEmpty = Annotated[str, AfterValidator(_non_empty)]
DnsName = Annotated[str, AfterValidator(_dns_name)]
Quantity = Annotated[str | int, AfterValidator(_quantity)]
Uuid = Annotated[str, AfterValidator(_uuid)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
