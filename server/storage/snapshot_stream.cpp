#include "storage/snapshot_stream.h"

#include <fcntl.h>

#include <utility>
#include <vector>

#include "jute/reader.h"
#include "jute/writer.h"

namespace zk::storage {
namespace {

constexpr std::string_view kSignature = "BenWasHere";

struct StreamError {
  std::string reason;
};

std::int32_t count(jute::Reader& in, std::string_view what) {
  std::int32_t n = in.readInt(what);
  if (n < 0) throw StreamError{std::string(what) + " is negative: " + std::to_string(n)};
  return n;
}

}  // namespace

SnapshotStreamEncoder::SnapshotStreamEncoder(const SessionMap& sessions, const DataTree& tree) {
  std::vector<std::pair<std::int64_t, AclList>> acls;
  tree.aclCache().forEach(
      [&](std::int64_t ref, const AclList& acl) { acls.emplace_back(ref, acl); });
  encoder_.sessions(sessions);
  encoder_.acls(acls);
}

std::string SnapshotStreamEncoder::nextChunk(const DataTree& tree, std::size_t maxNodes) {
  if (done_) return {};
  if (!nodes_.encodeMore(tree, encoder_, maxNodes)) return encoder_.take();
  done_ = true;
  encoder_.endNodes();
  std::string out = encoder_.take();
  jute::Writer w(out);
  w.writeString(kSignature);
  return out;
}

std::string encodeSnapshotStream(const SessionMap& sessions, const DataTree& tree) {
  SnapshotStreamEncoder encoder(sessions, tree);
  std::string out;
  while (!encoder.done()) out += encoder.nextChunk(tree, tree.nodeCount() + 1);
  return out;
}

bool SnapshotStreamScanner::step() {
  auto* base = reinterpret_cast<const std::uint8_t*>(buffer_.data());
  jute::Reader in(std::span(base + pos_, buffer_.size() - pos_));
  try {
    switch (phase_) {
      case Phase::SessionCount:
        remaining_ = count(in, "session count");
        phase_ = Phase::Sessions;
        break;
      case Phase::Sessions:
        if (remaining_ == 0) {
          phase_ = Phase::AclCount;
          return true;
        }
        in.readLong("session id");
        in.readInt("session timeout");
        --remaining_;
        break;
      case Phase::AclCount:
        remaining_ = count(in, "acl map size");
        phase_ = Phase::Acls;
        break;
      case Phase::Acls:
        if (remaining_ == 0) {
          phase_ = Phase::Nodes;
          return true;
        }
        in.readLong("acl ref");
        jute::readVector<ACL>(in, "acl list");
        --remaining_;
        break;
      case Phase::Nodes: {
        std::string path = in.readString("path");
        if (path == "/") {
          bodyEnd_ = pos_ + in.offset();
          phase_ = Phase::Signature;
          break;
        }
        in.readBuffer("node data");
        in.readLong("node acl");
        StatPersisted::read(in);
        break;
      }
      case Phase::Signature: {
        std::string signature = in.readString("signature");
        if (signature != kSignature)
          throw StreamError{"snapshot stream signature is '" + signature + "', expected '" +
                            std::string(kSignature) + "'"};
        done_ = true;
        break;
      }
    }
  } catch (const jute::TruncatedError&) {
    return false;  // the record is not complete yet
  } catch (const jute::DecodeError& e) {
    throw StreamError{e.what()};  // no more bytes can make it valid
  }
  pos_ += in.offset();
  return true;
}

SnapshotStreamScanner::Result SnapshotStreamScanner::feed(std::string_view bytes) {
  if (done_) return Malformed{"bytes fed after the end of the snapshot stream"};
  buffer_.append(bytes);
  received_ += bytes.size();
  try {
    while (!done_ && step()) {
    }
  } catch (const StreamError& e) {
    return Malformed{e.reason};
  }
  if (!done_) {
    if (received_ > maxBytes_)
      return Malformed{"snapshot stream is longer than " + std::to_string(maxBytes_) +
                       " bytes without ending"};
    return NeedMore{};
  }
  Done out{buffer_.substr(pos_)};
  buffer_.resize(bodyEnd_);
  pos_ = bodyEnd_;
  return out;
}

std::string SnapshotStreamScanner::takeRecords() {
  std::size_t end = phase_ == Phase::Signature || done_ ? bodyEnd_ : pos_;
  std::string records = buffer_.substr(0, end);
  buffer_.erase(0, end);
  pos_ -= end;
  bodyEnd_ -= end;
  return records;
}

std::string sealedSnapshotFile(std::string_view records) {
  SnapshotEncoder file;
  file.header();
  file.raw(records);
  file.seal();
  return file.take();
}

SnapshotSpool::SnapshotSpool(std::filesystem::path path)
    : path_(std::move(path)), fd_(Fd::open(path_, O_WRONLY | O_CREAT | O_TRUNC)) {
  encoder_.header();
  flush();
}

SnapshotSpool::~SnapshotSpool() {
  if (finished_) return;
  fd_.reset();
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void SnapshotSpool::append(std::string_view records) {
  encoder_.raw(records);
  flush();
}

void SnapshotSpool::finish() {
  encoder_.seal();
  flush();
  fsyncFile(fd_.get(), false, path_);
  fd_.reset();
  finished_ = true;
}

void SnapshotSpool::flush() {
  std::string bytes = encoder_.take();
  pwriteAll(fd_.get(), bytes, written_, path_);
  written_ += bytes.size();
}

}  // namespace zk::storage
