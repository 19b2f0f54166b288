#!/usr/bin/env bash
# Shared by demo.sh, test.sh and .ci/run: install what the project needs on a fresh machine.
#   uv (from PyPI if missing), the project and its locked dependencies in .venv,
#   and VictoriaMetrics (Debian package) when missing and we may install it; for the tests, openssl,
#   Chromium, PostgreSQL and Redis (ensure_test_tools).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1
    fi
}

UV=(uv)

ensure_uv() {
    if command -v uv >/dev/null; then return; fi
    if ! python3 -m uv --version >/dev/null 2>&1; then
        say "installing uv from PyPI"
        python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
    fi
    # pip may put the `uv` script where PATH does not look (pyenv shims); the module always works
    UV=(python3 -m uv)
}

ensure_python_env() {
    say "installing health-pipeline and its locked dependencies into .venv"
    (cd "$repo_root" && "${UV[@]}" sync --quiet --frozen --extra test --compile-bytecode)
}

apt_install() {
    # apt_install PACKAGE... : install Debian packages if we may (root or password-less sudo)
    if ! as_root true 2>/dev/null; then
        say "cannot install $* (not root, no password-less sudo): run 'sudo apt-get install -y $*'"
        return 1
    fi
    if [ -z "${HEALTH_PIPELINE_APT_UPDATED:-}" ]; then
        as_root apt-get update -qq
        export HEALTH_PIPELINE_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_victoriametrics() {
    if ! command -v victoria-metrics >/dev/null; then
        say "installing VictoriaMetrics (Debian package victoria-metrics)"
        apt_install victoria-metrics
    fi
}

ensure_test_tools() {
    # openssl makes the TLS test's private certificate; the browser tests drive Debian's Chromium
    # through Playwright (never a downloaded browser); the Postgres instance test starts Debian's
    # PostgreSQL server (its programs live in /usr/lib/postgresql/<version>/bin, not on PATH); the
    # shared quota tests start Debian's Redis and that PostgreSQL (`[app] coordination_url`)
    local missing=()
    command -v openssl >/dev/null || missing+=(openssl)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v ip >/dev/null || missing+=(iproute2)  # network namespaces: two workers as two hosts
    if ! command -v initdb >/dev/null && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        missing+=(postgresql)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]} (Debian packages)"
        apt_install "${missing[@]}"
    fi
}

ensure_all() {
    ensure_uv
    ensure_python_env
    ensure_victoriametrics
}
