#pragma once
// The records of ZooKeeper's client protocol (zookeeper.jute, module org.apache.zookeeper.proto
// and .data), each with its jute encoding. Field order is the wire order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jute/reader.h"
#include "jute/writer.h"

namespace zk {

struct Id {
  std::string scheme;
  std::string id;
  static Id read(jute::Reader& in);
  void write(jute::Writer& out) const;
  bool operator==(const Id&) const = default;
  auto operator<=>(const Id&) const = default;
};

struct ACL {
  std::int32_t perms = 0;
  Id id;
  static ACL read(jute::Reader& in);
  void write(jute::Writer& out) const;
  bool operator==(const ACL&) const = default;
  auto operator<=>(const ACL&) const = default;
};
using AclList = std::vector<ACL>;

// What a node keeps; dataLength and numChildren are derived when a Stat is sent.
struct StatPersisted {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int32_t version = 0;
  std::int32_t cversion = 0;
  std::int32_t aversion = 0;
  std::int64_t ephemeralOwner = 0;
  std::int64_t pzxid = 0;
  static StatPersisted read(jute::Reader& in);
  void write(jute::Writer& out) const;
  bool operator==(const StatPersisted&) const = default;
};

struct Stat {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int32_t version = 0;
  std::int32_t cversion = 0;
  std::int32_t aversion = 0;
  std::int64_t ephemeralOwner = 0;
  std::int32_t dataLength = 0;
  std::int32_t numChildren = 0;
  std::int64_t pzxid = 0;
  static Stat read(jute::Reader& in);
  void write(jute::Writer& out) const;
  static Stat from(const StatPersisted& p, std::int32_t dataLength, std::int32_t numChildren);
  bool operator==(const Stat&) const = default;
};

struct RequestHeader {
  std::int32_t xid = 0;
  std::int32_t type = 0;
  static RequestHeader read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct ReplyHeader {
  std::int32_t xid = 0;
  std::int64_t zxid = 0;
  std::int32_t err = 0;
  static ReplyHeader read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct ConnectRequest {
  std::int32_t protocolVersion = 0;
  std::int64_t lastZxidSeen = 0;
  std::int32_t timeOut = 0;
  std::int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;
  bool hasReadOnlyByte = false;  // old clients omit the trailing byte; the reply mirrors them
  static ConnectRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct ConnectResponse {
  std::int32_t protocolVersion = 0;
  std::int32_t timeOut = 0;
  std::int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;
  bool withReadOnlyByte = true;
  static ConnectResponse read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct WatcherEvent {
  std::int32_t type = 0;
  std::int32_t state = 0;
  std::string path;
  static WatcherEvent read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct AuthPacket {
  std::int32_t type = 0;
  std::string scheme;
  std::string auth;
  static AuthPacket read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

// Requests. Single-path requests with a watch flag share one shape.
struct PathWatchRequest {  // exists, getData, getChildren, getChildren2
  std::string path;
  bool watch = false;
  static PathWatchRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct PathRequest {  // getACL, sync, getAllChildrenNumber, getEphemerals, deleteContainer
  std::string path;
  static PathRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct CreateRequest {  // create, create2, createContainer; createTTL adds ttl
  std::string path;
  std::optional<std::string> data = std::string();  // null is kept, as ZooKeeper does
  AclList acl;
  std::int32_t flags = 0;
  std::int64_t ttl = -1;
  static CreateRequest read(jute::Reader& in, bool withTtl);
  void write(jute::Writer& out, bool withTtl) const;
};

struct PathVersionRequest {  // delete, check
  std::string path;
  std::int32_t version = -1;
  static PathVersionRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct SetDataRequest {
  std::string path;
  std::optional<std::string> data = std::string();  // null is kept, as ZooKeeper does
  std::int32_t version = -1;
  static SetDataRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct SetACLRequest {
  std::string path;
  AclList acl;
  std::int32_t version = -1;
  static SetACLRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct SetWatchesRequest {  // setWatches (3 lists) and setWatches2 (5 lists)
  std::int64_t relativeZxid = 0;
  std::vector<std::string> dataWatches;
  std::vector<std::string> existWatches;
  std::vector<std::string> childWatches;
  std::vector<std::string> persistentWatches;
  std::vector<std::string> persistentRecursiveWatches;
  static SetWatchesRequest read(jute::Reader& in, bool v2);
  void write(jute::Writer& out, bool v2) const;
};

struct WatchTypeRequest {  // checkWatches, removeWatches: {path, type}
  std::string path;
  std::int32_t type = 0;
  static WatchTypeRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct AddWatchRequest {
  std::string path;
  std::int32_t mode = 0;
  static AddWatchRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct ReconfigRequest {
  std::string joiningServers;
  std::string leavingServers;
  std::string newMembers;
  std::int64_t curConfigId = -1;
  static ReconfigRequest read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct MultiHeader {
  std::int32_t type = -1;
  bool done = true;
  std::int32_t err = -1;
  static MultiHeader read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

struct ClientInfo {
  std::string authScheme;
  std::string user;
  static ClientInfo read(jute::Reader& in);
  void write(jute::Writer& out) const;
};

}  // namespace zk
