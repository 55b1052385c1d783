#!/usr/bin/env bash
# Installs what `npm run bench` compares against, from Debian's packages: nginx-light (serves the
# GET workloads with sendfile, and over TLS: its ssl module is built in), python3-awscrt (the native
# CRT), curl (a native single-stream GET), openssl (makes the TLS workload's CA and certificate),
# tinyproxy (the HTTP proxy of the proxy workload) and GNU time (CPU seconds and peak RSS of each
# contender). Anything that cannot be installed is reported as skipped by the bench, never faked.
set -u
missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
/usr/bin/python3 -c 'import awscrt.s3' 2>/dev/null || missing+=(python3-awscrt)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/tinyproxy ] || missing+=(tinyproxy)
[ -x /usr/bin/time ] || missing+=(time)
exec bash "$(dirname "$0")/../scripts/apt-install.sh" bench/setup.sh "those contenders will be skipped" "${missing[@]}"
