#!/usr/bin/env bash
# Check that the tools a make target needs are here, before it starts:
#
#     bash scripts/require.sh chromium node npm
#
# The first missing one stops it at once with one line on stderr saying what is missing and how
# to install it (the packages .ci/run installs), and exit status 127.
set -uo pipefail

missing() {
  echo "$1" >&2
  exit 127
}

require_python3() {
  command -v python3 >/dev/null ||
    missing "python3 not found on PATH: install it with 'apt-get install python3 python3-venv'"
  python3 -c "import venv, ensurepip" 2>/dev/null ||
    missing "python3 has no venv module: install it with 'apt-get install python3-venv'"
}

require_pg_isready() {
  command -v pg_isready >/dev/null ||
    missing "pg_isready not found on PATH: install it with 'apt-get install postgresql-client'"
}

require_node() {
  command -v node >/dev/null ||
    missing "node not found on PATH: install it with 'apt-get install nodejs npm'"
  local version major minor
  version=$(node --version 2>/dev/null) || version=""
  version=${version#v}
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  if [[ ! $major =~ ^[0-9]+$ || ! $minor =~ ^[0-9]+$ ]] || ((major < 20 || (major == 20 && minor < 19))); then
    missing "node ${version:-of unknown version} is older than 20.19: install a newer one with 'apt-get install nodejs npm'"
  fi
}

require_npm() {
  command -v npm >/dev/null ||
    missing "npm not found on PATH: install it with 'apt-get install npm'"
}

require_chromium() {
  local path=${CHROMIUM_PATH:-/usr/bin/chromium}
  [[ -x $path ]] ||
    missing "chromium not found at $path: install it with 'apt-get install chromium' (or set CHROMIUM_PATH)"
}

for tool in "$@"; do
  if ! declare -F "require_$tool" >/dev/null; then
    echo "require.sh: no check for '$tool' (one of: python3 pg_isready node npm chromium)" >&2
    exit 2
  fi
  "require_$tool"
done
