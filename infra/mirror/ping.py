"""Is the stack's mirror there? A registry answers `GET /v2/` (the OCI distribution spec's
base endpoint) with 200, or 401 when it wants credentials; anything else means it is not an OCI
registry, or not reachable from here. `mlplatform mirror` asks before copying anything (on-prem
this is the whole bootstrap: the site's Harbor must exist).

TLS is verified with the system's CAs (`SSL_CERT_FILE` names a site CA bundle); `plain_http`
is for a local test registry only.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

TIMEOUT_S = 15


class RegistryUnreachable(RuntimeError):
    """The mirror does not answer as an OCI registry: the message says what happened."""


def ping(mirror: str, plain_http: bool = False) -> int:
    """The HTTP status of `GET /v2/` on the mirror's host (200 or 401), else RegistryUnreachable."""
    host = mirror.split("/", 1)[0]
    url = f"{'http' if plain_http else 'https'}://{host}/v2/"
    context = None if plain_http else ssl.create_default_context()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return 401
        raise RegistryUnreachable(f"{url} answered {error.code}: not an OCI registry") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RegistryUnreachable(f"{url}: {reason}") from None
