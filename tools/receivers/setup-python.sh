#!/usr/bin/env bash
# A Python virtualenv in .local/python with what the documented Python receivers need (the tests run them).
# Debian's python3 may lack venv/pip (python3-venv): install it when missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.local/python
if [ ! -x "$venv/bin/pip" ]; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    python3 -m venv "$venv"
  fi
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r tools/receivers/requirements.txt
"$venv/bin/python" -c "import flask, fastapi, uvicorn, standardwebhooks" && echo "python receivers env ready ($venv)"
