#pragma once
// Operation codes, special xids, event types and states of the ZooKeeper client protocol
// (numbers from ZooKeeper's ZooDefs.OpCode, ClientCnxn and Watcher.Event).

#include <cstdint>
#include <string_view>

namespace zk {

enum class OpCode : std::int32_t {
  kNotification = 0,
  kCreate = 1,
  kDelete = 2,
  kExists = 3,
  kGetData = 4,
  kSetData = 5,
  kGetACL = 6,
  kSetACL = 7,
  kGetChildren = 8,
  kSync = 9,
  kPing = 11,
  kGetChildren2 = 12,
  kCheck = 13,
  kMulti = 14,
  kCreate2 = 15,
  kReconfig = 16,
  kCheckWatches = 17,
  kRemoveWatches = 18,
  kCreateContainer = 19,
  kDeleteContainer = 20,
  kCreateTTL = 21,
  kMultiRead = 22,
  kAuth = 100,
  kSetWatches = 101,
  kSasl = 102,
  kGetEphemerals = 103,
  kGetAllChildrenNumber = 104,
  kSetWatches2 = 105,
  kAddWatch = 106,
  kWhoAmI = 107,
  kCreateSession = -10,
  kCloseSession = -11,
  kError = -1,
};

std::string_view opName(std::int32_t op);
// The name `cons` prints as a connection's last operation, as ZooKeeper's FinalRequestProcessor
// names them ("GETD", "CREA", ...). A single write that failed is "NA" there: ZooKeeper turns
// it into an error txn, which that processor answers before it names the op.
std::string_view lastOperationName(std::int32_t op, bool failed);

namespace xid {
inline constexpr std::int32_t kNotification = -1;
inline constexpr std::int32_t kPing = -2;
inline constexpr std::int32_t kAuth = -4;
inline constexpr std::int32_t kSetWatches = -8;
}  // namespace xid

enum class EventType : std::int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

enum class KeeperState : std::int32_t {
  kDisconnected = 0,
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kSaslAuthenticated = 6,
  kClosed = 7,
  kExpired = -112,
};

// CreateMode flags as sent in CreateRequest.flags.
enum class CreateMode : std::int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTTL = 5,
  kPersistentSequentialWithTTL = 6,
};

namespace perms {
inline constexpr std::int32_t kRead = 1;
inline constexpr std::int32_t kWrite = 2;
inline constexpr std::int32_t kCreate = 4;
inline constexpr std::int32_t kDelete = 8;
inline constexpr std::int32_t kAdmin = 16;
inline constexpr std::int32_t kAll = 31;
}  // namespace perms

// WatcherType for checkWatches/removeWatches, and AddWatchMode.
enum class WatcherType : std::int32_t {
  kChildren = 1,
  kData = 2,
  kAny = 3,
  kPersistent = 4,
  kPersistentRecursive = 5,
};
enum class AddWatchMode : std::int32_t { kPersistent = 0, kPersistentRecursive = 1 };

// ephemeralOwner encodings of ZooKeeper's EphemeralType for nodes that are not session-owned.
inline constexpr std::int64_t kContainerOwner = INT64_MIN;
inline constexpr std::int64_t kTtlOwnerMask = static_cast<std::int64_t>(0xff00000000000000ULL);
inline constexpr std::int64_t kMaxTtl = 0x000000ffffffffffLL;

}  // namespace zk
