#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {

std::string_view lastOperationName(std::int32_t op, bool failed) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateTTL:
    case OpCode::kCreateContainer:
      return failed ? "NA" : "CREA";
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      return failed ? "NA" : "DELE";
    case OpCode::kSetData:
      return failed ? "NA" : "SETD";
    case OpCode::kSetACL:
      return failed ? "NA" : "SETA";
    case OpCode::kReconfig:
      return failed ? "NA" : "RECO";
    case OpCode::kCheck:
      return failed ? "NA" : "CHEC";
    case OpCode::kPing:
      return "PING";
    case OpCode::kCreateSession:
      return "SESS";
    case OpCode::kCloseSession:
      return "CLOS";
    case OpCode::kMulti:
      return "MULT";
    case OpCode::kMultiRead:
      return "MLTR";
    case OpCode::kSync:
      return "SYNC";
    case OpCode::kExists:
      return "EXIS";
    case OpCode::kGetData:
      return "GETD";
    case OpCode::kSetWatches:
      return "SETW";
    case OpCode::kSetWatches2:
      return "STW2";
    case OpCode::kAddWatch:
      return "ADDW";
    case OpCode::kGetACL:
      return "GETA";
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
      return "GETC";
    case OpCode::kGetAllChildrenNumber:
      return "GETACN";
    case OpCode::kCheckWatches:
      return "CHKW";
    case OpCode::kRemoveWatches:
      return "REMW";
    case OpCode::kWhoAmI:
      return "HOMI";
    case OpCode::kGetEphemerals:
      return "GETE";
    default:
      return "NA";
  }
}

std::string_view opName(std::int32_t op) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kNotification:
      return "notification";
    case OpCode::kCreate:
      return "create";
    case OpCode::kDelete:
      return "delete";
    case OpCode::kExists:
      return "exists";
    case OpCode::kGetData:
      return "getData";
    case OpCode::kSetData:
      return "setData";
    case OpCode::kGetACL:
      return "getACL";
    case OpCode::kSetACL:
      return "setACL";
    case OpCode::kGetChildren:
      return "getChildren";
    case OpCode::kSync:
      return "sync";
    case OpCode::kPing:
      return "ping";
    case OpCode::kGetChildren2:
      return "getChildren2";
    case OpCode::kCheck:
      return "check";
    case OpCode::kMulti:
      return "multi";
    case OpCode::kCreate2:
      return "create2";
    case OpCode::kReconfig:
      return "reconfig";
    case OpCode::kCheckWatches:
      return "checkWatches";
    case OpCode::kRemoveWatches:
      return "removeWatches";
    case OpCode::kCreateContainer:
      return "createContainer";
    case OpCode::kDeleteContainer:
      return "deleteContainer";
    case OpCode::kCreateTTL:
      return "createTTL";
    case OpCode::kMultiRead:
      return "multiRead";
    case OpCode::kAuth:
      return "auth";
    case OpCode::kSetWatches:
      return "setWatches";
    case OpCode::kSasl:
      return "sasl";
    case OpCode::kGetEphemerals:
      return "getEphemerals";
    case OpCode::kGetAllChildrenNumber:
      return "getAllChildrenNumber";
    case OpCode::kSetWatches2:
      return "setWatches2";
    case OpCode::kAddWatch:
      return "addWatch";
    case OpCode::kWhoAmI:
      return "whoAmI";
    case OpCode::kCreateSession:
      return "createSession";
    case OpCode::kCloseSession:
      return "closeSession";
    case OpCode::kError:
      return "error";
  }
  return "unknown";
}

std::string_view errName(Err e) {
  switch (e) {
    case Err::kOk:
      return "OK";
    case Err::kSystemError:
      return "SYSTEMERROR";
    case Err::kRuntimeInconsistency:
      return "RUNTIMEINCONSISTENCY";
    case Err::kDataInconsistency:
      return "DATAINCONSISTENCY";
    case Err::kConnectionLoss:
      return "CONNECTIONLOSS";
    case Err::kMarshallingError:
      return "MARSHALLINGERROR";
    case Err::kUnimplemented:
      return "UNIMPLEMENTED";
    case Err::kOperationTimeout:
      return "OPERATIONTIMEOUT";
    case Err::kBadArguments:
      return "BADARGUMENTS";
    case Err::kUnknownSession:
      return "UNKNOWNSESSION";
    case Err::kNewConfigNoQuorum:
      return "NEWCONFIGNOQUORUM";
    case Err::kReconfigInProgress:
      return "RECONFIGINPROGRESS";
    case Err::kApiError:
      return "APIERROR";
    case Err::kNoNode:
      return "NONODE";
    case Err::kNoAuth:
      return "NOAUTH";
    case Err::kBadVersion:
      return "BADVERSION";
    case Err::kNoChildrenForEphemerals:
      return "NOCHILDRENFOREPHEMERALS";
    case Err::kNodeExists:
      return "NODEEXISTS";
    case Err::kNotEmpty:
      return "NOTEMPTY";
    case Err::kSessionExpired:
      return "SESSIONEXPIRED";
    case Err::kInvalidCallback:
      return "INVALIDCALLBACK";
    case Err::kInvalidACL:
      return "INVALIDACL";
    case Err::kAuthFailed:
      return "AUTHFAILED";
    case Err::kSessionMoved:
      return "SESSIONMOVED";
    case Err::kNotReadOnly:
      return "NOTREADONLY";
    case Err::kEphemeralOnLocalSession:
      return "EPHEMERALONLOCALSESSION";
    case Err::kNoWatcher:
      return "NOWATCHER";
    case Err::kRequestTimeout:
      return "REQUESTTIMEOUT";
    case Err::kReconfigDisabled:
      return "RECONFIGDISABLED";
    case Err::kSessionClosedRequireSaslAuth:
      return "SESSIONCLOSEDREQUIRESASLAUTH";
    case Err::kQuotaExceeded:
      return "QUOTAEXCEEDED";
    case Err::kThrottledOp:
      return "THROTTLEDOP";
  }
  return "UNKNOWN";
}

KeeperError::KeeperError(Err code, std::string_view path)
    : code(code),
      path_(path),
      message_(std::string(errName(code)) + " (" + std::to_string(static_cast<int>(code)) + ")" +
               (path.empty() ? std::string() : " for " + std::string(path))) {}

}  // namespace zk
