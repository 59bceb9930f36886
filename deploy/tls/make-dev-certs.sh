#!/usr/bin/env bash
# Makes a development CA, a server certificate for localhost/127.0.0.1 and one
# client certificate per principal, for indelibled's mutual TLS
# (docs/SECURITY.md). Not for production: keys are unencrypted files.
#
# Usage: deploy/tls/make-dev-certs.sh OUT_DIR [PRINCIPAL...]
#   default principals: writer reader auditor admin1 admin2
# Writes OUT_DIR/ca.pem, server.pem, server.key, <principal>.pem,
# <principal>.key (keys mode 0600). The principal's name is the client
# certificate's subject CN and its DNS subjectAltName.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 OUT_DIR [PRINCIPAL...]" >&2
  exit 2
fi
out="$1"
shift
if [ $# -eq 0 ]; then
  set -- writer reader auditor admin1 admin2
fi
mkdir -p "$out"
umask 077
days=825

newkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# sign NAME SUBJECT EXTENSIONS
sign() {
  local name="$1" subject="$2" ext="$3"
  newkey "$out/$name.key"
  openssl req -new -key "$out/$name.key" -subj "$subject" -out "$out/$name.csr"
  printf '%s\n' "$ext" > "$out/$name.ext"
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -CAcreateserial -days "$days" -sha256 -extfile "$out/$name.ext" \
    -out "$out/$name.pem" 2>/dev/null
  rm -f "$out/$name.csr" "$out/$name.ext"
}

newkey "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -subj "/CN=Indelible development CA" \
  -days "$days" -sha256 -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$out/ca.pem"

sign server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

for principal in "$@"; do
  case "$principal" in
    *[!A-Za-z0-9._-]*|'')
      echo "$0: principal '$principal': use letters, digits, '.', '_' or '-'" >&2
      exit 2 ;;
  esac
  sign "$principal" "/CN=$principal" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:$principal"
done
rm -f "$out/ca.srl"
chmod 0644 "$out"/*.pem
echo "wrote CA, server and client certificates for: $* to $out"
