#include "zab/packets.h"

#include <utility>

#include "jute/writer.h"

namespace zk::zab {
namespace {

// A non-throwing reader over a byte prefix: every read says whether the bytes were there.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  bool readInt(std::int32_t& out) {
    if (left() < 4) return false;
    out = static_cast<std::int32_t>(
        jute::loadBigEndian32(reinterpret_cast<const std::uint8_t*>(bytes_.data() + pos_)));
    pos_ += 4;
    return true;
  }
  bool readLong(std::int64_t& out) {
    std::int32_t hi = 0, lo = 0;
    if (left() < 8) return false;
    readInt(hi);
    readInt(lo);
    out = static_cast<std::int64_t>(
        (static_cast<std::uint64_t>(static_cast<std::uint32_t>(hi)) << 32) |
        static_cast<std::uint32_t>(lo));
    return true;
  }
  bool readBytes(std::size_t n, std::string& out) {
    if (left() < n) return false;
    out.assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  std::size_t left() const { return bytes_.size() - pos_; }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

enum class Step { Ok, More, Bad };

// A jute buffer/string: -1 is null (read as empty), other negatives or oversize are malformed.
Step readJuteBytes(Cursor& in, std::size_t max, std::string& out) {
  std::int32_t len = 0;
  if (!in.readInt(len)) return Step::More;
  if (len == -1) {
    out.clear();
    return Step::Ok;
  }
  if (len < 0 || static_cast<std::size_t>(len) > max) return Step::Bad;
  return in.readBytes(static_cast<std::size_t>(len), out) ? Step::Ok : Step::More;
}

Step readPacket(Cursor& in, std::size_t maxData, QuorumPacket& p, std::string& why) {
  if (!in.readInt(p.type) || !in.readLong(p.zxid)) return Step::More;
  Step s = readJuteBytes(in, maxData, p.data);
  if (s == Step::Bad) why = "bad data length";
  if (s != Step::Ok) return s;
  std::int32_t count = 0;
  if (!in.readInt(count)) return Step::More;
  if (count < -1 || count > 1024) {
    why = "bad authinfo count";
    return Step::Bad;
  }
  p.authinfo.clear();
  for (std::int32_t i = 0; i < count; ++i) {
    Id id;
    Step a = readJuteBytes(in, 1 << 20, id.scheme);
    if (a == Step::Ok) a = readJuteBytes(in, 1 << 20, id.id);
    if (a == Step::Bad) why = "bad authinfo string";
    if (a != Step::Ok) return a;
    p.authinfo.push_back(std::move(id));
  }
  return Step::Ok;
}

}  // namespace

const char* packetTypeName(std::int32_t type) {
  static constexpr const char* kNames[] = {
      "?",         "REQUEST",      "PROPOSAL",   "ACK",      "COMMIT",
      "PING",      "REVALIDATE",   "SYNC",       "INFORM",   "COMMITANDACTIVATE",
      "NEWLEADER", "FOLLOWERINFO", "UPTODATE",   "DIFF",     "TRUNC",
      "SNAP",      "OBSERVERINFO", "LEADERINFO", "ACKEPOCH", "INFORMANDACTIVATE"};
  if (type < 1 || type > 19) return "?";
  return kNames[type];
}

QuorumPacket makePacket(PacketType type, std::int64_t zxid, std::string data) {
  return QuorumPacket{static_cast<std::int32_t>(type), zxid, std::move(data), {}};
}

bool isType(const QuorumPacket& p, PacketType type) {
  return p.type == static_cast<std::int32_t>(type);
}

std::string encodePacket(const QuorumPacket& packet) {
  jute::Writer out;
  out.writeInt(packet.type);
  out.writeLong(packet.zxid);
  out.writeBuffer(packet.data);
  if (packet.authinfo.empty()) {
    out.writeInt(-1);
  } else {
    jute::writeVector(out, packet.authinfo);
  }
  return out.take();
}

std::variant<NeedMore, QuorumPacket, Malformed> PacketDecoder::next() {
  Cursor in(buffer_);
  QuorumPacket packet;
  std::string why;
  switch (readPacket(in, maxData_, packet, why)) {
    case Step::More:
      return NeedMore{};
    case Step::Bad:
      return Malformed{why};
    case Step::Ok:
      break;
  }
  buffer_.erase(0, in.pos());
  return packet;
}

std::string PacketDecoder::takeBuffered() {
  return std::exchange(buffer_, {});
}

std::string encodeLearnerInfo(const LearnerInfo& info) {
  jute::Writer out;
  out.writeLong(info.serverId);
  out.writeInt(info.protocolVersion);
  out.writeLong(info.configVersion);
  return out.take();
}

std::optional<LearnerInfo> decodeLearnerInfo(std::string_view bytes) {
  Cursor in(bytes);
  LearnerInfo info;
  if (!in.readLong(info.serverId)) return std::nullopt;
  // Very old learners sent only the sid; the later fields are optional as in LearnerHandler.
  if (in.left() >= 4) in.readInt(info.protocolVersion);
  if (in.left() >= 8) in.readLong(info.configVersion);
  return info;
}

std::string encodeInt(std::int32_t value) {
  jute::Writer out;
  out.writeInt(value);
  return out.take();
}

std::string encodeLong(std::int64_t value) {
  jute::Writer out;
  out.writeLong(value);
  return out.take();
}

std::optional<std::int32_t> decodeInt(std::string_view bytes) {
  Cursor in(bytes);
  std::int32_t v = 0;
  if (!in.readInt(v)) return std::nullopt;
  return v;
}

const char* serverStateName(ServerState s) {
  switch (s) {
    case ServerState::Looking:
      return "LOOKING";
    case ServerState::Following:
      return "FOLLOWING";
    case ServerState::Leading:
      return "LEADING";
    case ServerState::Observing:
      return "OBSERVING";
  }
  return "?";
}

std::string encodeNotification(const Notification& n) {
  jute::Writer out;
  out.writeInt(static_cast<std::int32_t>(n.state));
  out.writeLong(n.leader);
  out.writeLong(n.zxid);
  out.writeLong(n.electionEpoch);
  out.writeLong(n.peerEpoch);
  out.writeInt(n.version);
  out.writeInt(static_cast<std::int32_t>(n.config.size()));
  out.writeRaw(n.config);
  return out.take();
}

std::variant<Notification, Malformed> decodeNotification(std::string_view payload) {
  Cursor in(payload);
  Notification n;
  std::int32_t state = 0;
  if (payload.size() < 28) return Malformed{"notification shorter than 28 bytes"};
  in.readInt(state);
  if (state < 0 || state > 3) return Malformed{"unknown server state"};
  n.state = static_cast<ServerState>(state);
  in.readLong(n.leader);
  in.readLong(n.zxid);
  in.readLong(n.electionEpoch);
  n.version = 0;
  if (!in.readLong(n.peerEpoch)) {
    n.peerEpoch = n.zxid >> 32;  // pre-3.4 senders: the epoch is the zxid's high half
    return n;
  }
  if (!in.readInt(n.version)) return n;
  if (n.version > 0x1) {
    std::int32_t len = 0;
    if (!in.readInt(len) || len < 0 || static_cast<std::size_t>(len) > in.left()) {
      return Malformed{"bad config length"};
    }
    in.readBytes(static_cast<std::size_t>(len), n.config);
  }
  return n;
}

std::string encodeInitialMessage(const InitialMessage& m) {
  jute::Writer out;
  out.writeLong(m.protocolVersion);
  out.writeLong(m.sid);
  out.writeInt(static_cast<std::int32_t>(m.address.size()));
  out.writeRaw(m.address);
  return out.take();
}

std::string frameElectionMessage(std::string_view payload) {
  jute::Writer out;
  out.writeInt(static_cast<std::int32_t>(payload.size()));
  out.writeRaw(payload);
  return out.take();
}

std::variant<NeedMore, InitialMessage, std::string, Malformed> ElectionStreamDecoder::next() {
  Cursor in(buffer_);
  if (!haveInitial_) {
    InitialMessage m;
    if (!in.readLong(m.protocolVersion)) return NeedMore{};
    if (m.protocolVersion >= 0) {  // pre-3.5 peers send only their sid
      m.sid = m.protocolVersion;
      m.protocolVersion = 0;
    } else {
      if (m.protocolVersion != kElectionProtocolVersion &&
          m.protocolVersion != kElectionProtocolVersionMultiAddr) {
        return Malformed{"unknown election protocol version"};
      }
      std::int32_t len = 0;
      if (!in.readLong(m.sid) || !in.readInt(len)) return NeedMore{};
      if (len < 0 || len > 4096) return Malformed{"bad election address length"};
      if (!in.readBytes(static_cast<std::size_t>(len), m.address)) return NeedMore{};
    }
    haveInitial_ = true;
    buffer_.erase(0, in.pos());
    return m;
  }
  std::int32_t len = 0;
  if (!in.readInt(len)) return NeedMore{};
  if (len <= 0 || len > kElectionMaxFrame) return Malformed{"bad election frame length"};
  std::string payload;
  if (!in.readBytes(static_cast<std::size_t>(len), payload)) return NeedMore{};
  buffer_.erase(0, in.pos());
  return payload;
}

}  // namespace zk::zab
