#!/usr/bin/env bash
# Installs the servers the test suite starts on 127.0.0.1 from Debian's packages: tinyproxy (a real
# HTTP proxy for the proxy tests). `npm test` runs this first; a tool already there is left alone.
# Without root or apt-get it says what is missing, and the tests that need it fail naming it.
set -u
missing=()
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || missing+=(tinyproxy)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "scripts/setup-test-tools.sh: cannot install ${missing[*]} (needs root and apt-get); install them to run every test" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "scripts/setup-test-tools.sh: installing ${missing[*]} failed" >&2
# Debian starts tinyproxy as a service on install; the tests run their own.
command -v service >/dev/null && service tinyproxy stop >/dev/null 2>&1 || true
exit 0
