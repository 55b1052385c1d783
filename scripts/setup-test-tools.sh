#!/usr/bin/env bash
# Installs the tools the test suite drives on 127.0.0.1 from Debian's packages: tinyproxy (a real
# HTTP proxy for the proxy tests) and awscli (AWS CLI v2, /usr/bin/aws, a client no one here wrote,
# for test/awscli-interop.test.ts). `npm test` runs this first; a tool already there is left alone.
# Without root or apt-get it says what is missing, and the tests that need it fail or skip naming it.
set -u
missing=()
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || missing+=(tinyproxy)
# Not `command -v aws`: another aws (a pyenv shim, AWS CLI v1 from pip) may be first on PATH.
[ -x /usr/bin/aws ] || missing+=(awscli)
exec bash "$(dirname "$0")/apt-install.sh" scripts/setup-test-tools.sh "the tests that need them fail or skip naming them" "${missing[@]}"
