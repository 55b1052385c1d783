#!/usr/bin/env bash
# Installs Debian packages for the project's setup scripts: `apt-install.sh WHO CONSEQUENCE PKG...`.
# Without root or apt-get, or when the install fails, it says so on stderr (naming WHO and what
# follows from it, CONSEQUENCE) and exits 0: the caller's tools report what is missing themselves.
# Debian starts the services nginx and tinyproxy on install; the tests and the bench run their own.
set -u
who="$1" consequence="$2"
shift 2
if [ $# -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "$who: cannot install $* (needs root and apt-get); $consequence" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
  || echo "$who: installing $* failed; $consequence" >&2
for service in nginx tinyproxy; do
  command -v service >/dev/null && service "$service" stop >/dev/null 2>&1 || true
done
exit 0
