#!/usr/bin/env bash
# Installs everything `make test`, `make bench` and `make book` need on Debian 12. Idempotent.
#
#   scripts/setup.sh [GROUP...]     GROUP: core http book bench interop browser all (default: all)
#
# Only missing packages are installed: one `apt-get update`, then one
# `apt-get install` for the required ones and one for the optional ones.
# Chromium is optional: if it cannot be installed we warn and the browser test
# skips itself. Run as root, or as a user with sudo.
# shellcheck disable=SC2034  # the PKGS_* groups are read through ${!v}
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/scripts/node"
POLICY_RC=/usr/sbin/policy-rc.d   # Debian hook that lets invoke-rc.d refuse service starts
T0=$(date +%s%N)

say()  { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }
die()  { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# ---- package groups ------------------------------------------------------
# libclang-rt-14-dev carries clang-14's ASan/UBSan/libFuzzer runtimes; it is
# only a Recommends of clang, so --no-install-recommends would skip it.
PKGS_core="gcc make clang clang-format llvm libclang-rt-14-dev binutils python3 curl ca-certificates"
PKGS_http="curl wrk nghttp2-client util-linux" # the HTTP tests' real clients; util-linux: prlimit (the EMFILE test)
PKGS_book="pandoc graphviz"
PKGS_bench="wrk gnuplot-nox nginx h2o apache2-utils nghttp2-client curl linux-perf iproute2 util-linux liburing-dev" # iproute2: nstat (bench/accept_storm.py); util-linux: prlimit (the EMFILE test); liburing-dev: bench/floor/floor_uring.c; h2o: the second reference server
PKGS_interop="python3-websockets"     # + node/npm (checked by command) + npm packages
PKGS_browser="chromium chromium-driver" # optional

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

GROUPS_WANTED=()
for arg in "$@"; do
    case "$arg" in
        all) GROUPS_WANTED+=(core http book bench interop browser) ;;
        core|http|book|bench|interop|browser) GROUPS_WANTED+=("$arg") ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown group '$arg'" ;;
    esac
done
[ ${#GROUPS_WANTED[@]} -gt 0 ] || GROUPS_WANTED=(core http book bench interop browser)
want() { local g; for g in "${GROUPS_WANTED[@]}"; do [ "$g" = "$1" ] && return 0; done; return 1; }

REQUIRED=()
OPTIONAL=()
for g in core http book bench interop; do
    if want "$g"; then
        v="PKGS_$g"
        # shellcheck disable=SC2206
        REQUIRED+=(${!v})
    fi
done
if want interop; then
    # Node may come from Debian or from another vendor's package (which bundles
    # npm); either way only the commands matter, so ask for Debian's packages
    # only when the commands are missing.
    command -v node >/dev/null 2>&1 || REQUIRED+=(nodejs)
    command -v npm  >/dev/null 2>&1 || REQUIRED+=(npm)
fi
if want browser; then
    # shellcheck disable=SC2206
    OPTIONAL+=($PKGS_browser)
fi

# Keep unique names, original order.
uniq_words() { printf '%s\n' "$@" | awk 'NF && !seen[$0]++'; }
mapfile -t REQUIRED < <(uniq_words "${REQUIRED[@]}")
mapfile -t OPTIONAL < <(uniq_words "${OPTIONAL[@]+"${OPTIONAL[@]}"}")

# ---- what is missing -----------------------------------------------------
installed_set() {
    # prints the names among "$@" whose dpkg status is "installed"
    [ $# -gt 0 ] || return 0
    dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null \
        | awk '$2 ~ /^ii/ { print $1 }' || true
}
missing_from() {
    local have p
    have=" $(installed_set "$@" | tr '\n' ' ') "
    for p in "$@"; do
        case "$have" in *" $p "*) ;; *) echo "$p" ;; esac
    done
}
mapfile -t MISS_REQ < <(missing_from "${REQUIRED[@]}")
mapfile -t MISS_OPT < <(missing_from "${OPTIONAL[@]+"${OPTIONAL[@]}"}")

SUDO=()
need_root() {
    [ "$(id -u)" -eq 0 ] && return 0
    if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
        SUDO=(sudo)
        return 0
    fi
    return 1
}

apt_install() {
    # apt_install PKG... : installs without recommends and without starting services
    local created_policy=0 rc=0
    if [ ! -e "$POLICY_RC" ]; then
        # Refuse service starts while we install (nginx would otherwise start
        # on port 80 and be enabled at boot); removed again right after.
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY_RC" >/dev/null
        "${SUDO[@]}" chmod 755 "$POLICY_RC"
        created_policy=1
        trap '"${SUDO[@]}" rm -f "$POLICY_RC"' EXIT   # also on interruption
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@" || rc=$?
    if [ "$created_policy" = 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY_RC"
        trap - EXIT
    fi
    return "$rc"
}

if [ ${#MISS_REQ[@]} -eq 0 ] && [ ${#MISS_OPT[@]} -eq 0 ]; then
    say "apt: all $(( ${#REQUIRED[@]} + ${#OPTIONAL[@]} )) packages present"
else
    if ! need_root; then
        [ ${#MISS_REQ[@]} -gt 0 ] && printf 'setup: missing packages: %s\n' "${MISS_REQ[*]}" >&2
        [ ${#MISS_OPT[@]} -gt 0 ] && printf 'setup: missing optional packages: %s\n' "${MISS_OPT[*]}" >&2
        die "not root and no sudo: install them with
  apt-get install --no-install-recommends ${MISS_REQ[*]} ${MISS_OPT[*]+${MISS_OPT[*]}}"
    fi
    say "apt: missing ${MISS_REQ[*]} ${MISS_OPT[*]+${MISS_OPT[*]}}"
    say "apt: updating package lists"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
        || die "apt-get update failed"
    if [ ${#MISS_REQ[@]} -gt 0 ]; then
        say "apt: installing ${MISS_REQ[*]}"
        apt_install "${MISS_REQ[@]}" >/tmp/setup-apt.$$.log 2>&1 \
            || { tail -n 30 /tmp/setup-apt.$$.log >&2; rm -f /tmp/setup-apt.$$.log; die "apt-get install failed"; }
        rm -f /tmp/setup-apt.$$.log
    fi
    if [ ${#MISS_OPT[@]} -gt 0 ]; then
        say "apt: installing optional ${MISS_OPT[*]}"
        if ! apt_install "${MISS_OPT[@]}" >/tmp/setup-apt.$$.log 2>&1; then
            tail -n 10 /tmp/setup-apt.$$.log >&2
            warn "could not install ${MISS_OPT[*]}: browser tests will be skipped"
        fi
        rm -f /tmp/setup-apt.$$.log
    fi
    mapfile -t STILL < <(missing_from "${REQUIRED[@]}")
    [ ${#STILL[@]} -eq 0 ] || die "still missing after install: ${STILL[*]}"
fi

# ---- nginx, h2o: installed for the bench, never left running as services ---
# The bench runs its own nginx and h2o from generated configs; the
# distribution's services must not hold port 80 or start at boot.
stop_service() {
    # stop_service NAME PIDFILE QUIT...: stops and disables NAME's system service
    local name="$1" pidfile="$2" stopped=""
    shift 2
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-active --quiet "$name" 2>/dev/null; then
            need_root && "${SUDO[@]}" systemctl stop "$name" && stopped="stopped"
        fi
        if systemctl is-enabled --quiet "$name" 2>/dev/null; then
            need_root && "${SUDO[@]}" systemctl disable --quiet "$name" && stopped="${stopped:+$stopped, }disabled"
        fi
    else
        # No systemd: the service instance is the one using the default pid file.
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            need_root && "${SUDO[@]}" "$@" && stopped="stopped"
        fi
        if ls /etc/rc[2345].d/S*"$name" >/dev/null 2>&1 && command -v update-rc.d >/dev/null 2>&1; then
            need_root && "${SUDO[@]}" update-rc.d "$name" disable >/dev/null 2>&1 && stopped="${stopped:+$stopped, }disabled"
        fi
    fi
    say "$name: system service ${stopped:-not running}"
}
if want bench; then
    if [ -x /usr/sbin/nginx ]; then stop_service nginx /run/nginx.pid /usr/sbin/nginx -q -s quit; fi
    if [ -x /usr/bin/h2o ]; then stop_service h2o /run/h2o.pid sh -c 'kill -TERM "$(cat /run/h2o.pid)"'; fi
fi

# ---- npm packages for interop tests (ws, playwright-core) -------------------
if want interop; then
    command -v npm >/dev/null 2>&1 || die "npm not found after install"
    stamp="$NODE_DIR/node_modules/.setup-stamp"
    node_sum() { cat "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1 || true; }
    sum="$(node_sum)"
    if [ -f "$NODE_DIR/package-lock.json" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] \
        && [ -d "$NODE_DIR/node_modules/ws" ] && [ -d "$NODE_DIR/node_modules/playwright-core" ]; then
        say "npm: scripts/node up to date"
    else
        # Never let anything fetch a browser: tests use Debian's /usr/bin/chromium.
        export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        npm_flags=(--no-audit --no-fund --loglevel=error)
        if [ -f "$NODE_DIR/package-lock.json" ]; then
            say "npm: npm ci in scripts/node"
            (cd "$NODE_DIR" && npm ci "${npm_flags[@]}") >/dev/null || die "npm ci failed"
        else
            say "npm: npm install in scripts/node (creating package-lock.json)"
            (cd "$NODE_DIR" && npm install "${npm_flags[@]}") >/dev/null || die "npm install failed"
        fi
        node_sum > "$stamp"
    fi
fi

if want browser && [ ! -x /usr/bin/chromium ]; then
    warn "chromium is not installed: the browser test will skip"
fi

say "done in $(( ($(date +%s%N) - T0) / 1000000 )) ms"
