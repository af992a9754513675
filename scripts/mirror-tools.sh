#!/usr/bin/env bash
# The Debian packages the mirror's tests run against: docker-registry (the CNCF distribution OCI
# registry, started on 127.0.0.1 by tests/support/oci.py) and skopeo (what `mlplatform mirror`
# copies images with). Installed with apt-get where we are root on Debian/Ubuntu (CI, our
# machines); elsewhere it says what to install, and the tests that need them skip with that
# reason. Never fails the setup: the rest of the platform does not need them.
set -uo pipefail
missing=()
for tool in docker-registry skopeo; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "mirror-tools: installing ${missing[*]} (apt-get)"
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "mirror-tools: apt-get could not install ${missing[*]}" >&2
fi
echo "mirror-tools: ${missing[*]} missing (install: apt-get install ${missing[*]});" \
  "the mirror's registry tests will skip" >&2
exit 0
