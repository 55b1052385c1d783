#!/usr/bin/env bash
# Installs the servers the test suite starts on 127.0.0.1 from Debian's packages: tinyproxy (a real
# HTTP proxy for the proxy tests). `npm test` runs this first; a tool already there is left alone.
# Without root or apt-get it says what is missing, and the tests that need it fail naming it.
set -u
missing=()
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || missing+=(tinyproxy)
exec bash "$(dirname "$0")/apt-install.sh" scripts/setup-test-tools.sh "the tests that need them fail naming them" "${missing[@]}"
