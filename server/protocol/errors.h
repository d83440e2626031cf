#pragma once
// ZooKeeper's KeeperException.Code numbers; clients map them to exceptions by number.

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace zk {

enum class Err : std::int32_t {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidACL = -114,
  kAuthFailed = -115,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kRequestTimeout = -122,
  kReconfigDisabled = -123,
  kSessionClosedRequireSaslAuth = -124,
  kQuotaExceeded = -125,
  kThrottledOp = -127,
};

std::string_view errName(Err e);

// Thrown inside request preparation and reads to abort one operation with a protocol error code;
// what() names the code and, when known, the path ("NONODE (-101) for /a/b").
class KeeperError : public std::exception {
 public:
  explicit KeeperError(Err code, std::string_view path = {});
  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& path() const { return path_; }

  Err code;

 private:
  std::string path_;
  std::string message_;
};

}  // namespace zk
