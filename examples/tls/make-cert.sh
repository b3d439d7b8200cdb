#!/bin/sh
# Makes a self-signed TEST certificate for localhost and 127.0.0.1 (EC P-256, valid 30 days) in
# ${TLS_DIR:-examples/tls/pki}: cert.pem and key.pem. The key is unencrypted and for local tests only; the pki/
# folder is git-ignored so that no private key is ever committed. Needs openssl.
set -eu
dir="${TLS_DIR:-examples/tls/pki}"
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
chmod 600 "$dir/key.pem"
echo "test certificate: $dir/cert.pem (key: $dir/key.pem)"
