#!/usr/bin/env bash
# Runs README's Docker commands exactly as written (the block between <!-- docker-commands --> markers), in an
# empty environment, with `docker compose ...` replaced by compose-check: each command's view of
# docker-compose.yml is validated with compose-go (schema, references, and that every required variable is
# set by README's own lines). Nothing here sets a variable for them. No Docker engine is needed (or used).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
commands=$(awk '/<!-- docker-commands -->/ { inside = 1; next } /<!-- \/docker-commands -->/ { inside = 0 } inside && !/^```/' "$root/README.md")
if ! grep -q 'docker compose' <<< "$commands"; then
  echo "README.md has no docker-commands block with a docker compose command" >&2
  exit 1
fi
checker="$(mktemp -d)/compose-check"
trap 'rm -rf "$(dirname "$checker")"' EXIT
(cd "$root/tools/compose-check" && go build -o "$checker" .)

cd "$root"
env -i PATH="$PATH" HOME="$HOME" CHECKER="$checker" bash -c '
set -euo pipefail
docker() {
  if [ "${1:-}" != compose ]; then echo "not checked: docker $*" >&2; return 1; fi
  shift
  echo "+ docker compose $*"
  "$CHECKER" docker-compose.yml
}
'"$commands"
