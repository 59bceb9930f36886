#include "verifier/report/range_proof.h"

#include <algorithm>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"
#include "verifier/report/report_rows.h"
#include "verifier/store/layout.h"
#include "verifier/store/tree_nodes.h"

namespace indelible::report {
namespace {

// Signature lines after the log's: the witness cosignatures the daemon
// appended to a stored note.
bool HasCosignature(std::string_view note) {
  size_t lines = 0;
  for (size_t at = note.find("\n\xe2\x80\x94 "); at != std::string_view::npos;
       at = note.find("\n\xe2\x80\x94 ", at + 1)) {
    ++lines;
  }
  return lines >= 2;
}

// The size of a stored checkpoint in [from, newest]: the first one that
// witnesses cosigned, else the first one, probing a bounded number of
// sizes; newest (which always has one) if the probes find none.
absl::StatusOr<uint64_t> CheckpointSizeAtOrAfter(const store::Reader& reader,
                                                 const std::string& tenant, uint64_t from,
                                                 uint64_t newest) {
  constexpr uint64_t kMaxProbes = 1 << 16;
  std::optional<uint64_t> first;
  for (uint64_t n = from; n <= newest && n - from < kMaxProbes; ++n) {
    auto v = reader.Get(store::kCheckpointsV2Cf, store::SeqKey(tenant, n));
    if (!v.ok()) return v.status();
    if (!v->has_value()) continue;
    if (HasCosignature(**v)) return n;
    if (!first) first = n;
  }
  return first ? *first : newest;
}

}  // namespace

absl::StatusOr<uint64_t> NewestCheckpointV2Size(const store::Reader& reader,
                                                const std::string& tenant) {
  uint64_t newest = 0;
  auto rows = reader.NewRows(store::kCheckpointsV2Cf, store::TenantPrefix(tenant));
  for (; rows->Valid(); rows->Next()) {
    std::string_view t;
    uint64_t size = 0;
    if (store::ParseSeqKey(rows->key(), &t, &size) && t == tenant) newest = size;
  }
  if (!rows->ok()) return rows->status();
  return newest;
}

ProofWriter::ProofWriter(const store::Reader& reader, std::string tenant,
                         std::optional<uint64_t> from_ns, std::optional<uint64_t> to_ns,
                         uint64_t newest_size, ReportFile* out)
    : reader_(reader),
      tenant_(std::move(tenant)),
      from_(from_ns),
      to_(to_ns),
      out_(out),
      last_(newest_size) {
  out_->Append(absl::StrCat("{\"format\":\"", kProofFormat, "\",\"tenant\":",
                            nlohmann::json(tenant_).dump(), ",\"leaves\":[\n"));
}

void ProofWriter::Start(uint64_t first_seq, const chain::Digest& prev) {
  started_ = true;
  first_ = first_seq;
  first_prev_ = prev;
}

void ProofWriter::Add(const ProofRecord& r) {
  if (!status_.ok() || r.seq > last_) return;
  if (!started_) {
    if (from_ && r.received_at_ns < *from_) {
      pending_ = r;
      pending_category_.assign(r.category);
      pending_->category = pending_category_;
      return;
    }
    if (pending_) {
      Start(pending_->seq, pending_->prev_entry_hash);
      Emit(*pending_);
      pending_.reset();
    } else {
      Start(r.seq, r.prev_entry_hash);
    }
  }
  // The first record received after the window closes the range at the
  // first checkpoint that covers it: later records cannot be in the window.
  if (!closed_ && to_ && r.received_at_ns >= *to_) {
    closed_ = true;
    auto b = CheckpointSizeAtOrAfter(reader_, tenant_, r.seq, last_);
    if (!b.ok()) return Fail(b.status());
    last_ = *b;
  }
  if (!r.row) Emit(r);
}

void ProofWriter::Emit(const ProofRecord& r) {
  std::string category(r.category);
  if (r.pruned) {
    // The body is gone; the store keeps the category its leaf commits to
    // (the store check compared the two).
    auto kept = store::ReadLeafCategory(reader_, store::TreeLayoutOf(reader_), tenant_, r.seq);
    if (!kept.ok()) return Fail(kept.status());
    category = *std::move(kept);
  }
  std::string line = leaves_ == 0 ? "" : ",\n";
  absl::StrAppend(&line, "{\"seq\":", r.seq, ",\"entry_hash\":\"", chain::ToHex(r.entry_hash),
                  "\",\"category\":", nlohmann::json(category).dump(),
                  ",\"received_at_ns\":\"", r.received_at_ns, "\",\"body_digest\":\"",
                  chain::ToHex(r.body_digest), "\",\"pruned\":", r.pruned ? "true" : "false",
                  "}");
  out_->Append(line);
  ++leaves_;
}

absl::StatusOr<ProofSummary> ProofWriter::Finish() {
  if (!status_.ok()) return status_;
  if (!started_) {
    // No record reached the window: the range is the last record alone,
    // whose received_at shows that.
    if (!pending_) return absl::FailedPreconditionError("no record in the proof's range");
    Start(pending_->seq, pending_->prev_entry_hash);
    Emit(*pending_);
    pending_.reset();
    if (!status_.ok()) return status_;
  }
  auto note = reader_.Get(store::kCheckpointsV2Cf, store::SeqKey(tenant_, last_));
  if (!note.ok()) return note.status();
  if (!note->has_value()) {
    return absl::DataLossError(absl::StrCat("no stored v2 checkpoint of size ", last_));
  }
  const std::vector<chain::NodeId> frontier_nodes = chain::CompactRange::Frontier(first_ - 1);
  auto hashes =
      store::ReadTreeNodes(reader_, store::TreeLayoutOf(reader_), tenant_, frontier_nodes);
  if (!hashes.ok()) return hashes.status();
  auto frontier = chain::CompactRange::FromHashes(first_ - 1, *std::move(hashes));
  if (!frontier.ok()) return frontier.status();
  std::string tail = leaves_ == 0 ? "],\n" : "\n],\n";
  absl::StrAppend(&tail, "\"first_seq\":", first_, ",\"last_seq\":", last_,
                  ",\"prev_entry_hash\":\"", chain::ToHex(first_prev_), "\",\"frontier\":[");
  for (size_t i = 0; i < frontier->hashes().size(); ++i) {
    absl::StrAppend(&tail, i ? "," : "", "\"", chain::ToHex(frontier->hashes()[i]), "\"");
  }
  absl::StrAppend(&tail, "],\n\"checkpoint\":", nlohmann::json(**note).dump(), "}\n");
  out_->Append(tail);
  return ProofSummary{first_, last_, leaves_};
}

}  // namespace indelible::report

namespace indelible::report {

bool ParseTimeNs(const std::string& text, uint64_t* ns) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return false;
  const int64_t n = absl::ToUnixNanos(t);
  if (n < 0) return false;
  *ns = static_cast<uint64_t>(n);
  return true;
}

namespace {

using Json = nlohmann::json;

bool HexDigest(const Json& v, chain::Digest* d) {
  std::string bytes;
  return v.is_string() && chain::FromHex(v.get<std::string>(), &bytes) &&
         chain::DigestFromBytes(bytes, d);
}

uint64_t JsonUnsigned(const Json& v) {
  if (!v.is_number_unsigned()) throw std::invalid_argument("want a non-negative integer");
  return v.get<uint64_t>();
}

struct Leaf {
  uint64_t seq = 0;
  chain::Digest entry_hash{}, body_digest{};
  std::string category;
  uint64_t received_at_ns = 0;
  bool pruned = false;
};

}  // namespace

RangeCheck CheckRangeProof(const std::string& tenant, std::string_view proof,
                           std::vector<ProvenRow>* rows, const RangeWindow& window,
                           const std::vector<std::string>& trusted_keys) {
  RangeCheck c;
  auto problem = [&c](std::string p) { c.problems.push_back("proof: " + std::move(p)); };
  // Each leaf object is turned into a Leaf as soon as it is parsed and
  // dropped from the document, so memory stays near sizeof(Leaf) a leaf.
  std::vector<Leaf> leaves;
  std::string leaf_error;  // the first malformed leaf
  bool in_leaves = false;
  Json::parser_callback_t keep = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1) in_leaves = parsed == "leaves";
    if (event != Json::parse_event_t::object_end || depth != 2 || !in_leaves) return true;
    Leaf leaf;
    try {
      leaf.seq = JsonUnsigned(parsed.at("seq"));
      leaf.category = parsed.at("category").get<std::string>();
      leaf.pruned = parsed.at("pruned").get<bool>();
      if (!HexDigest(parsed.at("entry_hash"), &leaf.entry_hash) ||
          !HexDigest(parsed.at("body_digest"), &leaf.body_digest) ||
          !chain::ParseDecimal(parsed.at("received_at_ns").get<std::string>(),
                               &leaf.received_at_ns)) {
        throw std::invalid_argument("malformed hash or received_at_ns");
      }
      leaves.push_back(std::move(leaf));
    } catch (const std::exception& e) {
      if (leaf_error.empty()) {
        leaf_error = absl::StrCat("leaf ", leaves.size() + 1, ": ", e.what());
      }
    }
    return false;
  };
  Json j = Json::parse(proof, keep, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", Json()) != kProofFormat) {
    problem(std::string("not an ") + kProofFormat + " document");
    return c;
  }
  if (!leaf_error.empty()) {
    problem("malformed " + leaf_error);
    return c;
  }
  std::vector<chain::Digest> frontier;
  chain::Digest prev{};
  try {
    if (j.at("tenant") != tenant) problem("tenant is not the manifest's");
    c.first_seq = JsonUnsigned(j.at("first_seq"));
    c.last_seq = JsonUnsigned(j.at("last_seq"));
    c.checkpoint_note = j.at("checkpoint").get<std::string>();
    if (!HexDigest(j.at("prev_entry_hash"), &prev)) problem("malformed prev_entry_hash");
    for (const Json& h : j.at("frontier")) {
      chain::Digest d;
      if (!HexDigest(h, &d)) throw std::invalid_argument("frontier: want hex hashes");
      frontier.push_back(d);
    }
    // Anything but leaf objects left in "leaves" is malformed.
    if (!j.at("leaves").is_array() || !j.at("leaves").empty()) {
      throw std::invalid_argument("leaves: want an array of leaf objects");
    }
  } catch (const std::exception& e) {
    problem(std::string("missing or mistyped field (") + e.what() + ")");
    return c;
  }
  if (!c.problems.empty()) return c;
  if (c.first_seq == 0 || c.first_seq > c.last_seq) {
    problem(absl::StrCat("empty or inverted range ", c.first_seq, "..", c.last_seq));
    return c;
  }
  c.leaves = leaves.size();
  if (c.first_seq > 1 && !(window.received_at && window.from_ns)) {
    problem(absl::StrCat("the range starts at seq ", c.first_seq, ", not 1, but the time window "
                         "has no received_at start: records before it are not covered"));
  }
  auto range = chain::CompactRange::FromHashes(c.first_seq - 1, frontier);
  if (!range.ok()) {
    problem(absl::StrCat("the frontier is not that of the ", c.first_seq - 1,
                         " records before seq ", c.first_seq));
    return c;
  }
  std::stable_sort(rows->begin(), rows->end(),
                   [](const ProvenRow& a, const ProvenRow& b) { return a.seq < b.seq; });
  // Walk the range: each seq must be the next row or the next leaf.
  auto row = rows->begin();
  auto leaf = leaves.begin();
  uint64_t pruned_in_window = 0, unjudged = 0, unjudged_occurred = 0;
  bool closed = false;
  const auto in_window = [&window](uint64_t t) {
    return (!window.from_ns || t >= *window.from_ns) && (!window.to_ns || t < *window.to_ns);
  };
  for (uint64_t seq = c.first_seq; seq <= c.last_seq; ++seq) {
    const bool is_row = row != rows->end() && row->seq == seq;
    const bool is_leaf = leaf != leaves.end() && leaf->seq == seq;
    if (is_row && is_leaf) {
      problem(absl::StrCat("seq ", seq, " is both a row and a leaf"));
      return c;
    }
    if (!is_row && !is_leaf) {
      problem(absl::StrCat("seq ", seq, " is neither a row nor a leaf: a record of the range "
                           "was left out"));
      return c;
    }
    chain::Digest entry;
    std::string_view category;
    if (is_row) {
      if (seq == c.first_seq && seq > 1) {
        problem(absl::StrCat("seq ", seq, ": the range starts inside the time window (its "
                             "first record is a row), so records before it are not covered"));
      }
      if (row->prev_entry_hash && *row->prev_entry_hash != prev) {
        problem(absl::StrCat("seq ", seq, ": the row's prev_entry_hash is not the entry hash "
                             "of seq ", seq - 1));
        return c;
      }
      if (row->body_digest &&
          chain::EntryHash(tenant, seq, row->received_at_ns, prev, *row->body_digest) !=
              row->entry_hash) {
        problem(absl::StrCat("seq ", seq, ": the row's cells, salt and received_at do not hash "
                             "to its entry_hash, after the entry hash of seq ", seq - 1,
                             " (seq ", seq - 1, " or ", seq, " was changed)"));
        return c;
      }
      entry = row->entry_hash;
      category = row->category;
      ++row;
    } else {
      entry = chain::EntryHash(tenant, seq, leaf->received_at_ns, prev, leaf->body_digest);
      if (entry != leaf->entry_hash) {
        problem(absl::StrCat("seq ", seq, ": the leaf's entry hash does not follow from its "
                             "received_at, body digest and the entry hash before it (seq ", seq - 1, " or ",
                             seq, " was changed)"));
        return c;
      }
      category = leaf->category;
      if (!window.received_at && !leaf->pruned) ++unjudged_occurred;
      if (window.received_at) {
        const uint64_t t = leaf->received_at_ns;
        if (seq == c.first_seq && seq > 1 && window.from_ns && t >= *window.from_ns) {
          problem(absl::StrCat("seq ", seq, ": the range starts inside the time window (this "
                               "record was received at or after filters.from), so records "
                               "before it are not covered"));
        }
        if (window.to_ns && t >= *window.to_ns) closed = true;
        if (in_window(t) && (window.category.empty() || window.category == leaf->category)) {
          if (leaf->pruned) {
            ++pruned_in_window;
          } else if (!window.other_filters.empty()) {
            ++unjudged;
          } else {
            problem(absl::StrCat("seq ", seq, ": a record in the time window and of the "
                                 "category asked for is not a row: a matching row was left "
                                 "out"));
          }
        }
      }
      ++leaf;
    }
    range->Append(chain::LeafHash(entry, category));
    prev = entry;
  }
  if (row != rows->end()) {
    problem(absl::StrCat("row of seq ", row->seq, " is outside the range ", c.first_seq, "..",
                         c.last_seq));
  }
  if (leaf != leaves.end()) {
    problem(absl::StrCat("leaf of seq ", leaf->seq, " is outside the range or out of order"));
  }
  // The checkpoint of size last_seq.
  auto split = chain::SplitNote(c.checkpoint_note);
  absl::StatusOr<chain::CheckpointV2> cp =
      split.ok() ? chain::ParseCheckpointV2Text(split->text) : split.status();
  if (!cp.ok()) {
    problem("checkpoint: malformed note (" + std::string(cp.status().message()) + ")");
    return c;
  }
  c.checkpoint_time_ns = cp->timestamp_ns;
  if (cp->tenant != tenant) problem("checkpoint: tenant " + cp->tenant + ", not the manifest's");
  if (cp->size != c.last_seq) {
    problem(absl::StrCat("checkpoint: size ", cp->size, ", but the range ends at seq ",
                         c.last_seq, ": the range was shortened or the checkpoint replaced"));
  } else if (range->Root() != cp->root) {
    problem(absl::StrCat("the root recomputed from the rows and leaves of seqs ", c.first_seq,
                         "..", c.last_seq, " is not the checkpoint's: a row or leaf was "
                         "changed"));
  } else if (cp->chain_head != prev) {
    problem(absl::StrCat("checkpoint: its chain line is not the entry hash of seq ",
                         c.last_seq));
  }
  std::vector<chain::NoteVerifierKey> keys;
  for (const auto& sig : split->signatures) {
    for (const auto& k : trusted_keys) {
      chain::NoteVerifierKey vk = chain::MakeNoteVerifierKey(std::string(sig.name), k);
      if (vk.key_id == sig.key_id) keys.push_back(std::move(vk));
    }
  }
  if (!keys.empty()) {
    if (chain::VerifyCheckpointV2(c.checkpoint_note, keys).ok()) {
      c.log_signed = true;
    } else {
      problem("checkpoint: the log's signature does not verify");
    }
  }
  if (pruned_in_window > 0) {
    c.notes.push_back(absl::StrCat(
        "proof: ", pruned_in_window, " record(s) in the window were pruned by retention (no "
        "body, so no row); `indelible-verify check` judges each pruning against the "
        "retention policy"));
  }
  if (unjudged > 0) {
    c.notes.push_back(absl::StrCat(
        "proof: ", unjudged, " record(s) in the time window are leaves that the filters ",
        absl::StrJoin(window.other_filters, ", "), " could not be checked on (their content "
        "is not in the report)"));
  }
  if (unjudged_occurred > 0) {
    c.notes.push_back(absl::StrCat(
        "proof: ", unjudged_occurred, " leaves could not be checked against the occurred_at "
        "window (client-asserted, and their content is not in the report)"));
  }
  if (c.problems.empty() && window.received_at && !closed) {
    c.notes.push_back(absl::StrCat(
        "proof: the range ends at seq ", c.last_seq, " (the checkpoint's time ",
        FormatTimeNs(c.checkpoint_time_ns), "); records received after it are not covered"));
  }
  return c;
}

}  // namespace indelible::report
