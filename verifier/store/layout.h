// The RocksDB layout of an Indelible data directory, shared by the daemon
// (the only writer) and the offline verifier (a reader). Written down once,
// here, next to the only code that encodes and decodes it.
//
// Column families (all keys big-endian, so key order is seq order):
//
//   default      "format" -> "indelible/v1"
//                "signing_key/" || key_id(4) -> verifier key string of every
//                    key that has signed checkpoints here (a key history;
//                    informative: an auditor supplies the keys they trust)
//                "retention/" || tenant || 0x00 || category -> u64(seconds):
//                    a retention override set at runtime
//                "hold/" || tenant -> reason: a legal hold
//                "purged/" || tenant -> the signed deletion certificate
//   skeletons_v2 key(tenant, s) -> a run of the tenant's skeletons,
//                    consecutive seqs from s, at most kBodyRunMaxRecords
//                    (SkeletonRunFloor), encoded as a run of bodies
//                    is (BodyRun: u64(seq) || u32(n) || skeleton); a
//                    skeleton is u64(received_at_ns) || body_digest(32)
//                    || entry_hash(32) || category: 72 bytes and the
//                    category the record's leaf commits to (the body's;
//                    kept when retention prunes the body and event-id
//                    entry, the only other copies). The committer writes
//                    each run of bodies' skeletons as a run under the same
//                    key; only the tree upgrade of an older store rewrites
//                    a row (a run of one). Rows of one tenant never
//                    overlap. Stores from before it have "skeletons",
//                    key(tenant, seq) -> one skeleton, which the daemon
//                    moves here (one row per skeleton) when it opens them.
//   bodies_v2    key(tenant, s) -> a run of the tenant's bodies, seqs
//                    strictly increasing from s (BodyRun): each
//                    u64(seq) || u32(n) || body (n bytes), where a body is
//                    u64(received_at_ns) || salt(16) || CE (received_at
//                    repeats the skeleton's; no hash covers the copy, so the
//                    verifier compares it with the skeleton and retention
//                    does not read it). The committer writes one row per
//                    tenant's consecutive records of a chunk, at most
//                    kBodyRunMaxRecords, full at kBodyRunMaxBytes; retention
//                    rewrites a row without its expired bodies (the key
//                    stays, so the first seq may be above s). Rows of one
//                    tenant never overlap. Stores from before it have
//                    "bodies", key(tenant, seq) -> one body, which the daemon
//                    moves here (one row per body) when it opens them.
//   heads        tenant           -> u64(seq) || u64(received_at_ns)
//                                     || entry_hash(32)                 48 bytes
//   event_ids_v2 event_id || 0x00 || tenant -> u64(seq) || u64(received_at_ns)
//                    || category (for retention, as for bodies). Stores
//                    from before it have "event_ids", keyed tenant || 0x00
//                    || event_id, which the daemon moves here when it opens
//                    them.
//   checkpoints  key(tenant, seq) -> signed checkpoint note (text)
//   tree         TreeKey(tenant, level, index) -> node hash(32): every
//                    complete node of the tenant's Merkle tree (format v2,
//                    docs/FORMAT.md) at level kLowestStoredLevel (4) or
//                    above, written in the WriteBatch of the record that
//                    completes it. Leaves and the nodes below level 4 are not
//                    stored: each is hashed from at most 16 skeletons (a
//                    leaf is LeafHash(entry_hash, category)).
//   checkpoints_v2  key(tenant, size) -> signed v2 checkpoint note (a C2SP
//                    tlog-checkpoint; v1 notes stay in "checkpoints")
//
// default also holds "tree" -> "rfc9162-sha256/v2" once every tenant's tree
// is complete in this layout (written at creation, or after the upgrade of
// a store written before the tree existed, or of one whose "tree" is
// "rfc9162-sha256/v1": every node stored, leaves as hash || category, and
// 72-byte skeletons).
//
//   key(tenant, seq) = tenant || 0x00 || u64(seq)
//
// A tenant id never contains 0x00 ([a-z0-9][a-z0-9._-]{0,62}), so the prefix
// "tenant || 0x00" selects exactly one tenant's records, in seq order.
// Skeletons and bodies live apart so retention can drop bodies alone; a
// record's skeleton, body, head update and event-id entry are always written
// in one WriteBatch.
#ifndef INDELIBLE_VERIFIER_STORE_LAYOUT_H_
#define INDELIBLE_VERIFIER_STORE_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "verifier/chain/coding.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/merkle.h"

namespace indelible::store {

inline constexpr char kFormatKey[] = "format";
inline constexpr char kFormatValue[] = "indelible/v1";

inline constexpr char kSigningKeyPrefix[] = "signing_key/";

inline constexpr char kTreeMarkerKey[] = "tree";
inline constexpr char kTreeMarkerValue[] = "rfc9162-sha256/v2";
// The layout before: every node stored, categories in the leaf rows.
inline constexpr char kTreeMarkerV1[] = "rfc9162-sha256/v1";
// The lowest level of the tree that has rows.
inline constexpr int kLowestStoredLevel = 4;

inline constexpr char kRetentionPrefix[] = "retention/";
inline constexpr char kHoldPrefix[] = "hold/";
inline constexpr char kPurgedPrefix[] = "purged/";
// purging_event_ids/<tenant> -> "": written with a purge, deleted once the
// tenant's event ids are gone from the index (Storage::DeleteTenantEventIds);
// the daemon finishes any deletion left when it opens the store.
inline constexpr char kPurgingEventIdsPrefix[] = "purging_event_ids/";
// approval/<request id> -> ApprovalRecord: destructive admin requests waiting
// for a second admin (docs/SECURITY.md).
inline constexpr char kApprovalPrefix[] = "approval/";
// The security- and retention-relevant settings last applied, as a JSON
// object of strings (daemon/governance/config_governance.h), written with the records
// of their changes.
inline constexpr char kAppliedSettingsKey[] = "config/applied";

// Skeletons in runs (BodyRun's encoding).
inline constexpr char kSkeletonsCf[] = "skeletons_v2";
// Skeletons as stores before runs kept them, one row per record: the daemon
// moves them into kSkeletonsCf (Storage::MoveLegacySkeletons); the verifier
// reads both.
inline constexpr char kLegacySkeletonsCf[] = "skeletons";
// Bodies in runs (BodyRun).
inline constexpr char kBodiesCf[] = "bodies_v2";
// Bodies as stores before runs kept them, one row per record: the daemon
// moves them into kBodiesCf (Storage::MoveLegacyBodies); the verifier reads
// both.
inline constexpr char kLegacyBodiesCf[] = "bodies";
inline constexpr char kHeadsCf[] = "heads";
// The idempotency index, keyed event id first (EventIdKey).
inline constexpr char kEventIdsCf[] = "event_ids_v2";
// The index as stores before it kept it, keyed `tenant || 0x00 || event_id`:
// the daemon moves its rows into kEventIdsCf and drops it
// (Storage::MoveLegacyEventIds).
inline constexpr char kLegacyEventIdsCf[] = "event_ids";
inline constexpr char kCheckpointsCf[] = "checkpoints";
inline constexpr char kTreeCf[] = "tree";
inline constexpr char kCheckpointsV2Cf[] = "checkpoints_v2";

// A skeleton's fixed part; its category follows.
inline constexpr size_t kSkeletonSize = 8 + 2 * chain::kDigestSize;
inline constexpr size_t kHeadSize = 16 + chain::kDigestSize;
static_assert(kSkeletonSize == 72, "skeleton layout");
static_assert(kHeadSize == 48, "head layout");

// "tenant || 0x00": the prefix of every per-tenant key.
inline std::string TenantPrefix(std::string_view tenant) {
  std::string k(tenant);
  k.push_back('\0');
  return k;
}

// Writes key(tenant, seq) into *k (its capacity is kept: the write path
// reuses one buffer).
inline void SeqKeyTo(std::string_view tenant, uint64_t seq, std::string* k) {
  k->assign(tenant);
  k->push_back('\0');
  chain::PutU64(k, seq);
}

inline std::string SeqKey(std::string_view tenant, uint64_t seq) {
  std::string k;
  SeqKeyTo(tenant, seq, &k);
  return k;
}

// Splits key(tenant, seq); false if `key` is not of that form.
inline bool ParseSeqKey(std::string_view key, std::string_view* tenant,
                        uint64_t* seq) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return false;
  *tenant = key.substr(0, key.size() - 9);
  *seq = chain::DecodeU64(key.data() + key.size() - 8);
  return true;
}

// `event_id || 0x00 || tenant`: neither holds a NUL (an event id has no
// control characters, a tenant id is [a-z0-9._-]). The id comes first so that
// ids which grow with time (UUIDv7, ULIDs, a client's counter) land after
// the ids stored before them whatever their tenant: the index's new tables
// then overlap few older ones, and compactions rewrite little
// (docs/PERFORMANCE.md, "The idempotency index").
inline std::string EventIdKey(std::string_view tenant,
                              std::string_view event_id) {
  std::string k;
  k.reserve(event_id.size() + 1 + tenant.size());
  k.append(event_id);
  k.push_back('\0');
  k.append(tenant);
  return k;
}

// Splits an EventIdKey; false if `key` has no NUL.
inline bool ParseEventIdKey(std::string_view key, std::string_view* tenant,
                            std::string_view* event_id) {
  const size_t nul = key.rfind('\0');
  if (nul == std::string_view::npos) return false;
  *event_id = key.substr(0, nul);
  *tenant = key.substr(nul + 1);
  return true;
}

// tenant || 0x00 || u8(level) || u64(index): the perfect subtree over
// leaves [index << level, (index + 1) << level). Within a tenant and level,
// key order is index order.
inline constexpr size_t kTreeKeySuffix = 1 + 1 + 8;

inline std::string TreeKey(std::string_view tenant, int level, uint64_t index) {
  std::string k = TenantPrefix(tenant);
  k.push_back(static_cast<char>(level));
  chain::PutU64(&k, index);
  return k;
}

// Splits a TreeKey; false if `key` is not of that form.
inline bool ParseTreeKey(std::string_view key, std::string_view* tenant,
                         int* level, uint64_t* index) {
  if (key.size() < kTreeKeySuffix + 1 || key[key.size() - kTreeKeySuffix] != '\0') {
    return false;
  }
  *tenant = key.substr(0, key.size() - kTreeKeySuffix);
  *level = static_cast<unsigned char>(key[key.size() - 9]);
  *index = chain::DecodeU64(key.data() + key.size() - 8);
  return *level < 64;
}

// A tree row's value: a node's hash. In the layout of kTreeMarkerV1 a leaf
// (level 0) is followed by the category its hash commits to.
inline std::string EncodeTreeRow(int level, const chain::Digest& hash,
                                 std::string_view leaf_category) {
  std::string v(chain::AsBytes(hash));
  if (level == 0) v.append(leaf_category);
  return v;
}

// Splits a tree row's value; false if it is malformed (shorter than a hash,
// or longer above level 0). `leaf_category` is empty above level 0.
inline bool DecodeTreeRow(int level, std::string_view v, chain::Digest* hash,
                          std::string_view* leaf_category) {
  if (v.size() < chain::kDigestSize || (level > 0 && v.size() != chain::kDigestSize)) {
    return false;
  }
  *leaf_category = v.substr(chain::kDigestSize);
  return chain::DigestFromBytes(v.substr(0, chain::kDigestSize), hash);
}

struct Skeleton {
  uint64_t received_at_ns = 0;
  chain::Digest body_digest{};
  chain::Digest entry_hash{};
  // The category the record's leaf commits to ("" for a record pruned
  // before its store had a tree: docs/FORMAT.md).
  std::string category;
};

// Writes the skeleton's value, `s` with `category` in place of s.category,
// into *v, replacing what it held.
inline void EncodeSkeletonTo(const Skeleton& s, std::string_view category, std::string* v) {
  v->clear();
  chain::PutU64(v, s.received_at_ns);
  v->append(chain::AsBytes(s.body_digest));
  v->append(chain::AsBytes(s.entry_hash));
  v->append(category);
}

// `s` with `category` in place of s.category.
inline std::string EncodeSkeleton(const Skeleton& s, std::string_view category) {
  std::string v;
  v.reserve(kSkeletonSize + category.size());
  EncodeSkeletonTo(s, category, &v);
  return v;
}

inline std::string EncodeSkeleton(const Skeleton& s) { return EncodeSkeleton(s, s.category); }

inline bool DecodeSkeleton(std::string_view v, Skeleton* s) {
  if (v.size() < kSkeletonSize) return false;
  s->received_at_ns = chain::DecodeU64(v.data());
  s->category.assign(v.substr(kSkeletonSize));
  return chain::DigestFromBytes(v.substr(8, chain::kDigestSize),
                                &s->body_digest) &&
         chain::DigestFromBytes(v.substr(8 + chain::kDigestSize, chain::kDigestSize),
                                &s->entry_hash);
}

// The leaf hash of the record whose skeleton is `s`.
inline chain::Digest LeafOf(const Skeleton& s) {
  return chain::LeafHash(s.entry_hash, s.category);
}

struct Head {
  uint64_t seq = 0;
  uint64_t received_at_ns = 0;
  chain::Digest entry_hash{};
};

inline std::string EncodeHead(const Head& h) {
  std::string v;
  v.reserve(kHeadSize);
  chain::PutU64(&v, h.seq);
  chain::PutU64(&v, h.received_at_ns);
  v.append(chain::AsBytes(h.entry_hash));
  return v;
}

inline bool DecodeHead(std::string_view v, Head* h) {
  if (v.size() != kHeadSize) return false;
  h->seq = chain::DecodeU64(v.data());
  h->received_at_ns = chain::DecodeU64(v.data() + 8);
  return chain::DigestFromBytes(v.substr(16), &h->entry_hash);
}

// Body value: u64(received_at_ns) || salt || CE.
inline constexpr size_t kBodyHeaderSize = 8;

inline std::string EncodeBody(uint64_t received_at_ns, const chain::Salt& salt,
                              std::string_view ce) {
  std::string v;
  v.reserve(kBodyHeaderSize + salt.size() + ce.size());
  chain::PutU64(&v, received_at_ns);
  v.append(chain::AsBytes(salt));
  v.append(ce);
  return v;
}

// Overwrites the received_at of an encoded body (the sequencer learns it
// after the body was built). REQUIRES: body came from EncodeBody.
inline void SetBodyReceivedAt(std::string* body, uint64_t received_at_ns) {
  std::string v;
  chain::PutU64(&v, received_at_ns);
  body->replace(0, kBodyHeaderSize, v);
}

inline bool DecodeBody(std::string_view v, uint64_t* received_at_ns,
                       std::string_view* salt, std::string_view* ce) {
  if (v.size() < kBodyHeaderSize + chain::kSaltSize) return false;
  *received_at_ns = chain::DecodeU64(v.data());
  *salt = v.substr(kBodyHeaderSize, chain::kSaltSize);
  *ce = v.substr(kBodyHeaderSize + chain::kSaltSize);
  return true;
}

inline bool DecodeBody(std::string_view v, std::string_view* salt,
                       std::string_view* ce) {
  uint64_t received_at_ns;
  return DecodeBody(v, &received_at_ns, salt, ce);
}

// A row of kBodiesCf holds at most this many bodies, and stops taking more
// once it holds kBodyRunMaxBytes: a point read (an idempotent retry, a
// proof's record) reads and searches one row.
inline constexpr size_t kBodyRunMaxRecords = 64;
inline constexpr size_t kBodyRunMaxBytes = 32 << 10;
// Each body in a run: u64(seq) || u32(n), then n bytes.
inline constexpr size_t kBodyRunEntryHeader = 12;

// Appends the body of `seq` to the run in *row. REQUIRES: seq is above every
// seq in *row (and, for the row's first body, at least the seq of its key).
inline void AppendToBodyRun(std::string* row, uint64_t seq, std::string_view body) {
  chain::PutU64(row, seq);
  chain::PutU32(row, static_cast<uint32_t>(body.size()));
  row->append(body);
}

// Appends the skeleton (EncodeSkeletonTo) of `seq` to the run in *row: a
// row of kSkeletonsCf is encoded as a row of kBodiesCf is. REQUIRES as
// AppendToBodyRun.
inline void AppendToSkeletonRun(std::string* row, uint64_t seq, std::string_view skeleton) {
  AppendToBodyRun(row, seq, skeleton);
}

// The lowest key a row of kSkeletonsCf holding (tenant, seq) can have: the
// committer's runs are of consecutive seqs, at most kBodyRunMaxRecords, and
// nothing rewrites them (those of older stores are runs of one).
inline std::string SkeletonRunFloor(std::string_view tenant, uint64_t seq) {
  return SeqKey(tenant, seq >= kBodyRunMaxRecords ? seq - (kBodyRunMaxRecords - 1) : 0);
}

// The smallest key above every key(tenant, s) with s <= seq: an iterator's
// upper bound for reads up to seq, so that no row after it, the next
// tenant's included, is read.
inline std::string SeqKeyAbove(std::string_view tenant, uint64_t seq) {
  if (seq == UINT64_MAX) {
    std::string k(tenant);
    k.push_back('\x01');
    return k;
  }
  return SeqKey(tenant, seq + 1);
}

// Reads the bodies of one row of kBodiesCf (or the skeletons of one row of
// kSkeletonsCf), in seq order. A run that does not
// decode (a length past its end, a seq not above the one before it or below
// the key's) stops there: malformed() is then true and rest() holds the
// bytes from the first that do not decode.
class BodyRun {
 public:
  BodyRun(uint64_t key_seq, std::string_view row) : min_seq_(key_seq), rest_(row) {}

  // The next body: true with *seq and *body set; false at the end of the row
  // or where it does not decode (malformed()).
  bool Next(uint64_t* seq, std::string_view* body) {
    if (rest_.empty() || malformed_) return false;
    if (rest_.size() < kBodyRunEntryHeader) return Malformed();
    const uint64_t s = chain::DecodeU64(rest_.data());
    const uint32_t n = chain::DecodeU32(rest_.data() + 8);
    if (s < min_seq_ || n > rest_.size() - kBodyRunEntryHeader) return Malformed();
    *seq = s;
    *body = rest_.substr(kBodyRunEntryHeader, n);
    rest_.remove_prefix(kBodyRunEntryHeader + n);
    min_seq_ = s + 1;
    // A seq of 2^64 - 1 leaves no seq above it: nothing may follow.
    if (s == UINT64_MAX && !rest_.empty()) malformed_ = true;
    return true;
  }
  bool malformed() const { return malformed_; }
  // The lowest seq the next body may have (the key's seq, else one past the
  // last body read).
  uint64_t next_min_seq() const { return min_seq_; }
  std::string_view rest() const { return rest_; }

 private:
  bool Malformed() {
    malformed_ = true;
    return false;
  }
  uint64_t min_seq_;
  std::string_view rest_;
  bool malformed_ = false;
};

// Event-id index value: u64(seq) || u64(received_at_ns) || category.
// Writes the event-id row's value into *v, replacing what it held.
inline void EncodeEventIdValueTo(uint64_t seq, uint64_t received_at_ns,
                                 std::string_view category, std::string* v) {
  v->clear();
  chain::PutU64(v, seq);
  chain::PutU64(v, received_at_ns);
  v->append(category);
}

inline std::string EncodeEventIdValue(uint64_t seq, uint64_t received_at_ns,
                                      std::string_view category) {
  std::string v;
  EncodeEventIdValueTo(seq, received_at_ns, category, &v);
  return v;
}

inline bool DecodeEventIdValue(std::string_view v, uint64_t* seq,
                               uint64_t* received_at_ns,
                               std::string_view* category) {
  if (v.size() < 16) return false;
  *seq = chain::DecodeU64(v.data());
  *received_at_ns = chain::DecodeU64(v.data() + 8);
  *category = v.substr(16);
  return true;
}

}  // namespace indelible::store

#endif  // INDELIBLE_VERIFIER_STORE_LAYOUT_H_
