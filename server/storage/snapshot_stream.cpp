#include "storage/snapshot_stream.h"

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

std::string encodeSnapshotStream(const SessionMap& sessions, const DataTree& tree) {
  SnapshotEncoder encoder;
  std::vector<std::pair<std::int64_t, AclList>> acls;
  tree.aclCache().forEach(
      [&](std::int64_t ref, const AclList& acl) { acls.emplace_back(ref, acl); });
  encoder.sessions(sessions);
  encoder.acls(acls);
  tree.visitFrom("", true, tree.nodeCount(), [&](std::string_view path, const Node& node) {
    encoder.node(path, node.nullableData(), node.aclRef, node.stat.persisted());
  });
  encoder.endNodes();
  std::string out = encoder.take();
  jute::Writer w(out);
  w.writeString(kSignature);
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
  buffer_.append(bytes);
  try {
    while (!done_ && step()) {
    }
  } catch (const StreamError& e) {
    return Malformed{e.reason};
  }
  if (!done_) {
    if (buffer_.size() > maxBytes_)
      return Malformed{"snapshot stream is longer than " + std::to_string(maxBytes_) +
                       " bytes without ending"};
    return NeedMore{};
  }
  SnapshotEncoder file;
  file.header();
  file.raw(std::string_view(buffer_).substr(0, bodyEnd_));
  file.seal();
  Done out{file.take(), buffer_.substr(pos_)};
  buffer_.clear();
  return out;
}

}  // namespace zk::storage
