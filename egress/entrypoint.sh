#!/bin/sh
# ssl-bump needs a certificate even though the proxy never bumps (peek + splice or terminate only):
# a throwaway self-signed one per container, never trusted by anything.
set -eu
dir=/etc/squid/octw
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj /CN=octw-egress-unused -keyout "$dir/bump.key" -out "$dir/bump.crt" 2>/dev/null
chown proxy:proxy "$dir"/bump.*
exec node /opt/octw/sidecar.mjs
