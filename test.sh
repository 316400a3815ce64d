#!/usr/bin/env bash
# Runs Mezzo's whole test suite on a fresh machine: installs what the tests need, builds, runs every test project.
# Usage: ./test.sh [extra dotnet test args, e.g. --filter-class Mezzo.IntegrationTests.CliTests]
set -euo pipefail
cd "$(dirname "$0")"

# OS packages the tests use for real (no fakes): setpriv/kill/ps/nsenter/unshare for process tests, runc, a registry
# and busybox for image tests, python3 as a task HTTP server for health checks, nc for task groups sharing loopback,
# etcd for master high availability, chromium for the web UI's browser tests.
packages=(util-linux procps runc docker-registry busybox-static python3 netcat-openbsd etcd-server chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The browser tests use the system chromium: Playwright must never download one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
dotnet build Mezzo.slnx -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# Tests kill -9 many mezzo processes on purpose; a .NET process killed that way leaves its debugger pipes and
# diagnostics socket in /tmp. Nothing in the tests attaches a debugger or dotnet-counters, so they are not created.
export DOTNET_EnableDiagnostics=0
# Generated inputs per parser in the fuzz tests (tests/Fuzz/README.md): about a minute on 2 cores. Raise it locally for
# a longer session; MEZZO_FUZZ_SEED replays a failing run.
export MEZZO_FUZZ_ITERATIONS=${MEZZO_FUZZ_ITERATIONS:-300}
# Exit code 8 is "this project ran no test", which a filter makes normal; the summary below still fails a run of none.
dotnet test --solution Mezzo.slnx -c Release --no-build --ignore-exit-code 8 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Keep the web UI screenshots (one per page) where CI collects artifacts.
screenshots=tests/Mezzo.Web.Tests/bin/Release/net10.0/TestResults/screenshots
if [[ -d $screenshots ]]; then
  mkdir -p TestResults/screenshots
  cp "$screenshots"/*.png TestResults/screenshots/ 2>/dev/null && echo "Web UI screenshots: TestResults/screenshots/"
fi

# One plain closing line for CI: "N passed, N failed, N skipped".
awk '/^ *total:/{t+=$2} /^ *failed:/{f+=$2} /^ *succeeded:/{p+=$2} /^ *skipped:/{s+=$2}
     END { if (t == 0) { print "no tests ran"; exit 1 } printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log" || status=1
exit "$status"
