#pragma once
// ZooKeeper's quorum and election wire formats, so zookube members and Apache ZooKeeper members
// can talk to each other. Decoders never throw: they report "need more bytes" or "malformed".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/records.h"

namespace zk::zab {

// Leader.java's packet type numbers.
enum class PacketType : std::int32_t {
  Request = 1,
  Proposal = 2,
  Ack = 3,
  Commit = 4,
  Ping = 5,
  Revalidate = 6,
  Sync = 7,
  Inform = 8,
  CommitAndActivate = 9,
  NewLeader = 10,
  FollowerInfo = 11,
  UpToDate = 12,
  Diff = 13,
  Trunc = 14,
  Snap = 15,
  ObserverInfo = 16,
  LeaderInfo = 17,
  AckEpoch = 18,
  InformAndActivate = 19,
};
const char* packetTypeName(std::int32_t type);

// zookeeper.jute QuorumPacket. An empty data buffer is written as length 0 (never null) because
// ZooKeeper reads the data of some packets (PING replies) without a null check.
struct QuorumPacket {
  std::int32_t type = 0;
  std::int64_t zxid = 0;
  std::string data;
  std::vector<Id> authinfo;
  bool operator==(const QuorumPacket&) const = default;
};

QuorumPacket makePacket(PacketType type, std::int64_t zxid, std::string data = {});
bool isType(const QuorumPacket& p, PacketType type);

// The quorum port carries bare jute records, one after another: BinaryOutputArchive.writeRecord
// over the socket stream, no outer length prefix (the data buffer carries its own length).
std::string encodePacket(const QuorumPacket& packet);

struct NeedMore {};
struct Malformed {
  std::string reason;
};

// Incremental decoder for the quorum stream: feed bytes as they arrive, then call next() until
// it returns NeedMore. After Malformed the stream is unusable; the caller drops the connection.
class PacketDecoder {
 public:
  explicit PacketDecoder(std::size_t maxDataBytes = 64u << 20) : maxData_(maxDataBytes) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  std::variant<NeedMore, QuorumPacket, Malformed> next();
  // Bytes received but not yet consumed (the raw snapshot that follows SNAP is read from here).
  std::string takeBuffered();

 private:
  std::string buffer_;
  std::size_t maxData_;
};

// zookeeper.jute LearnerInfo, the data of FOLLOWERINFO / OBSERVERINFO.
struct LearnerInfo {
  std::int64_t serverId = 0;
  std::int32_t protocolVersion = 0x10000;
  std::int64_t configVersion = 0;
};
std::string encodeLearnerInfo(const LearnerInfo& info);
std::optional<LearnerInfo> decodeLearnerInfo(std::string_view bytes);

// 4-byte big-endian int, as LEADERINFO (protocol version) and ACKEPOCH (current epoch) carry.
std::string encodeInt(std::int32_t value);
// A big-endian long (COMMITANDACTIVATE's designated leader).
std::string encodeLong(std::int64_t value);
std::optional<std::int32_t> decodeInt(std::string_view bytes);

// --- Election (QuorumCnxManager / FastLeaderElection) ---

enum class ServerState : std::int32_t { Looking = 0, Following = 1, Leading = 2, Observing = 3 };
const char* serverStateName(ServerState s);

// FastLeaderElection.buildMsg layout, version 0x2.
struct Notification {
  ServerState state = ServerState::Looking;
  std::int64_t leader = 0;
  std::int64_t zxid = 0;
  std::int64_t electionEpoch = 0;
  std::int64_t peerEpoch = 0;
  std::int32_t version = 0x2;
  std::string config;
  bool operator==(const Notification&) const = default;
};
std::string encodeNotification(const Notification& n);
// Accepts the older 28-, 36- and 40-byte layouts as ZooKeeper does.
std::variant<Notification, Malformed> decodeNotification(std::string_view payload);

// The first message on an election connection: protocol version, sender sid, its election address.
constexpr std::int64_t kElectionProtocolVersion = -65536;
constexpr std::int64_t kElectionProtocolVersionMultiAddr = -65535;
constexpr std::int32_t kElectionMaxFrame = 512 * 1024;
struct InitialMessage {
  std::int64_t sid = 0;
  std::string address;  // "host:port" ("host:port|host:port" with the multi-address version)
  std::int64_t protocolVersion = kElectionProtocolVersion;
};
std::string encodeInitialMessage(const InitialMessage& m);

// Election connections: an initial message, then frames of (int length, bytes).
std::string frameElectionMessage(std::string_view payload);

class ElectionStreamDecoder {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // First call yields the InitialMessage, later calls yield frame payloads.
  std::variant<NeedMore, InitialMessage, std::string, Malformed> next();
  // What was fed and not yet taken by next() (quorum SASL reads its packets from there).
  std::string takeBuffered() { return std::exchange(buffer_, {}); }

 private:
  std::string buffer_;
  bool haveInitial_ = false;
};

}  // namespace zk::zab
