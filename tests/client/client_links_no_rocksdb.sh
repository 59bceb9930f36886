#!/bin/sh
# Usage: client_links_no_rocksdb.sh NM INDELIBLE_BINARY CLIENT_SOURCE_DIR
# Fails if the `indelible` binary holds or links RocksDB, or a client source
# includes RocksDB or the store reader.
nm="$1" bin="$2" src="$3"
[ -x "$bin" ] || { echo "$bin: not built"; exit 1; }
if "$nm" -C "$bin" | grep -q 'rocksdb::'; then
  echo "$bin holds RocksDB code"
  exit 1
fi
if ldd "$bin" | grep -qi rocksdb; then
  echo "$bin links a RocksDB library"
  exit 1
fi
if grep -rlE 'rocksdb/|verifier/store/(reader|restore)\.h' "$src"; then
  echo "the client sources above open a store"
  exit 1
fi
echo "ok: $bin neither holds nor links RocksDB"
