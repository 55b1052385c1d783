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
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "bench/setup.sh: cannot install ${missing[*]} (needs root and apt-get); those contenders will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "bench/setup.sh: installing ${missing[*]} failed; those contenders will be skipped" >&2
# Debian starts nginx and tinyproxy on install; the bench runs its own.
command -v service >/dev/null && service nginx stop >/dev/null 2>&1 || true
command -v service >/dev/null && service tinyproxy stop >/dev/null 2>&1 || true
exit 0
