// What a backup directory holds besides the RocksDB files of a data
// directory (layout.h), shared by the daemon that writes backups and the
// restore (restore.h, `indelible-verify restore`) that reads them.
// docs/OPERATIONS.md describes it for operators.
//
//   <backup>/CURRENT, MANIFEST-*, OPTIONS-*, *.sst, *.log
//                            a RocksDB checkpoint of the data directory: it
//                            opens like one (indelible-verify check works on
//                            it directly)
//   <backup>/indelible-backup.json
//                            the manifest, written last: a directory without
//                            it is not a finished backup
//   <backup>/verifier-key.txt    the checkpoint key, verifier-key string
//   <backup>/public-key.pem      the same key, SubjectPublicKeyInfo PEM
//   (no private key: a backup taken by an earlier version may hold the
//   development key as signing-key.pem, which restore leaves out)
//
// Manifest (JSON object):
//   format              "indelible-backup/v1"
//   name, created_at    directory name; RFC 3339 UTC time (daemon's clock)
//   created_at_ns       the same, ns since the Unix epoch
//   indelible_version   of the daemon that wrote it
//   store_format        the data directory's format marker
//   label               as requested ("" if none)
//   verifier_key        as in verifier-key.txt
//   tenants             [{tenant, seq, head_hash (hex), received_at_ns,
//                         checkpoint_seq}], in tenant order
//   files, size_bytes   the RocksDB files: count and total size
#ifndef INDELIBLE_VERIFIER_STORE_BACKUP_LAYOUT_H_
#define INDELIBLE_VERIFIER_STORE_BACKUP_LAYOUT_H_

namespace indelible::store {

inline constexpr char kBackupManifestFile[] = "indelible-backup.json";
inline constexpr char kBackupManifestFormat[] = "indelible-backup/v1";
inline constexpr char kBackupVerifierKeyFile[] = "verifier-key.txt";
inline constexpr char kBackupPublicKeyFile[] = "public-key.pem";
// The development key's file name: "<data_dir>.signing-key.pem" beside
// the data directory (daemon/trust/log_signer.h); in older data directories and
// backups, a key of this name inside them.
inline constexpr char kSigningKeyFile[] = "signing-key.pem";
// Backups in progress are written under this prefix and renamed when done.
inline constexpr char kBackupTempPrefix[] = ".tmp-";

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_BACKUP_LAYOUT_H_
