# Shell helpers shared by the benchmark scripts (run.sh, capture.sh, noisy-neighbour.sh); sourced.

alive() {  # alive PID : a pid that exists and is not a zombie
  local st
  [[ -r /proc/$1/stat ]] || return 1
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != Z ]]
}

haproxy_pki() {  # haproxy_pki DIR : a CA and mutual-TLS certificates for the HAProxy pair (haproxy-a client, haproxy-b server)
  local d=$1 who eku
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$d/ca.key" -sha256 -days 2 -subj "/CN=capstan-bench-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$d/ca.crt" 2>/dev/null
  for who in haproxy-a haproxy-b; do
    [[ "$who" == haproxy-a ]] && eku=clientAuth || eku=serverAuth
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/$who.key" 2>/dev/null
    openssl req -new -key "$d/$who.key" -subj "/CN=$who.bench" -out "$d/$who.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s.bench\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' \
      "$who" "$eku" >"$d/$who.ext"
    openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -sha256 -extfile "$d/$who.ext" -out "$d/$who.crt" 2>/dev/null
    cat "$d/$who.crt" "$d/$who.key" >"$d/$who.pem"
  done
}
