#!/usr/bin/env bash
# Build the platform's six images (workloads/Dockerfile.*), push them to the stack's mirror and
# record each pushed digest in the stack's mirror lock (locks/mirror/<stack>.lock.json).
#
#   scripts/build-images.sh STACK [buildah|kaniko]      (default: buildah)
#
# Run from a clean checkout after `mlplatform mirror --stack STACK` (which puts the base image
# into the mirror and its digest into the lock). Each build's base is
# ${MIRROR}/library/python:<tag>@<locked digest> (`mlplatform mirror builds` prints the list), so
# nothing is pulled from Docker Hub. Needs registry credentials for the mirror: `buildah login
# <mirror host>` (buildah), /kaniko/.docker/config.json (kaniko), or MLP_REGISTRY_USERNAME /
# MLP_REGISTRY_PASSWORD (also what `mlplatform mirror record` uses to read the digest back).
# Extra build arguments (e.g. PIP_INDEX_URL=https://pypi.mirror.example.ae/simple) come from
# BUILD_ARGS="K=V K=V"; options for `mlplatform mirror builds/record` (e.g. --lock FILE, --set
# KEY=VALUE) from MIRROR_ARGS. MLP_PLAIN_HTTP=1 talks HTTP to the registry (a local test one).
# Then commit the lock: plans pin the new images by digest.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: scripts/build-images.sh STACK [buildah|kaniko]}"
builder="${2:-buildah}"
mlp="${MLPLATFORM:-.venv/bin/mlplatform}"
plain=()
[ "${MLP_PLAIN_HTTP:-}" = 1 ] && plain=(--plain-http)
extra=()
for kv in ${BUILD_ARGS:-}; do extra+=(--build-arg "$kv"); done
read -r -a options <<< "${MIRROR_ARGS:-}"

list="$(mktemp)"
trap 'rm -f "$list" "$list.digest"' EXIT
"$mlp" mirror builds --stack "$stack" "${options[@]}" > "$list"

while read -r key dockerfile ref mirror base_digest; do
  echo "build-images: $key ($dockerfile) → $ref" >&2
  args=(--build-arg "MIRROR=$mirror" --build-arg "BASE_DIGEST=$base_digest" "${extra[@]}")
  case "$builder" in
    buildah)
      tls=()
      [ ${#plain[@]} -gt 0 ] && tls=(--tls-verify=false)
      buildah bud --pull=always "${tls[@]}" --file "$dockerfile" "${args[@]}" --tag "$ref" .
      buildah push "${tls[@]}" --digestfile "$list.digest" "$ref" "docker://$ref"
      ;;
    kaniko)
      insecure=()
      [ ${#plain[@]} -gt 0 ] && insecure=(--insecure --insecure-pull)
      /kaniko/executor --context "dir://$PWD" --dockerfile "$dockerfile" "${args[@]}" \
        "${insecure[@]}" --destination "$ref" --digest-file "$list.digest"
      ;;
    *)
      echo "build-images: unknown builder '$builder'; allowed: buildah, kaniko" >&2
      exit 2
      ;;
  esac
  "$mlp" mirror record --stack "$stack" --image "$key" --digest "$(cat "$list.digest")" \
    "${options[@]}" "${plain[@]}"
done < "$list"
echo "build-images: every image built, pushed and locked; commit locks/mirror/$stack.lock.json" >&2
