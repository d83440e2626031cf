#pragma once
// Transaction records (zookeeper.jute, module org.apache.zookeeper.txn): what the log stores,
// what replicas apply, and what a snapshot replays after. One Txn is a header plus a typed body;
// the header's type selects the body, exactly as ZooKeeper's SerializeUtils does.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/records.h"

namespace zk {

struct TxnHeader {
  std::int64_t clientId = 0;
  std::int32_t cxid = 0;
  std::int64_t zxid = 0;
  std::int64_t time = 0;
  std::int32_t type = 0;
  static TxnHeader read(jute::Reader& in);
  void write(jute::Writer& out) const;
  bool operator==(const TxnHeader&) const = default;
};

struct CreateTxn {  // create, create2 (and ephemeral variants)
  std::string path;
  std::optional<std::string> data = std::string();  // nullopt: null data, not empty
  AclList acl;
  bool ephemeral = false;
  std::int32_t parentCVersion = 0;
  bool operator==(const CreateTxn&) const = default;
};
struct CreateContainerTxn {
  std::string path;
  std::optional<std::string> data = std::string();  // nullopt: null data, not empty
  AclList acl;
  std::int32_t parentCVersion = 0;
  bool operator==(const CreateContainerTxn&) const = default;
};
struct CreateTTLTxn {
  std::string path;
  std::optional<std::string> data = std::string();  // nullopt: null data, not empty
  AclList acl;
  std::int32_t parentCVersion = 0;
  std::int64_t ttl = 0;
  bool operator==(const CreateTTLTxn&) const = default;
};
struct DeleteTxn {  // delete and deleteContainer
  std::string path;
  bool operator==(const DeleteTxn&) const = default;
};
struct SetDataTxn {
  std::string path;
  std::optional<std::string> data = std::string();  // nullopt: null data, not empty
  std::int32_t version = 0;
  bool operator==(const SetDataTxn&) const = default;
};
struct CheckVersionTxn {
  std::string path;
  std::int32_t version = 0;
  bool operator==(const CheckVersionTxn&) const = default;
};
struct SetACLTxn {
  std::string path;
  AclList acl;
  std::int32_t version = 0;
  bool operator==(const SetACLTxn&) const = default;
};
struct CreateSessionTxn {
  std::int32_t timeOut = 0;
  bool operator==(const CreateSessionTxn&) const = default;
};
// ZooKeeper 3.6+ lists the ephemerals a close removes; older logs carry an empty body.
struct CloseSessionTxn {
  std::vector<std::string> paths2Delete;
  bool operator==(const CloseSessionTxn&) const = default;
};
struct ErrorTxn {
  std::int32_t err = 0;
  bool operator==(const ErrorTxn&) const = default;
};

using SubTxnBody = std::variant<CreateTxn, CreateContainerTxn, CreateTTLTxn, DeleteTxn, SetDataTxn,
                                CheckVersionTxn, SetACLTxn, ErrorTxn>;
struct SubTxn {
  std::int32_t type = 0;  // OpCode of the sub-operation, or kError
  SubTxnBody body;
  bool operator==(const SubTxn&) const = default;
};
struct MultiTxn {
  std::vector<SubTxn> txns;
  bool operator==(const MultiTxn&) const = default;
};

using TxnBody =
    std::variant<std::monostate, CreateTxn, CreateContainerTxn, CreateTTLTxn, DeleteTxn, SetDataTxn,
                 CheckVersionTxn, SetACLTxn, CreateSessionTxn, CloseSessionTxn, ErrorTxn, MultiTxn>;

struct Txn {
  TxnHeader header;
  TxnBody body;
  bool operator==(const Txn&) const = default;
};

// Header + body, as ZooKeeper's Util.marshallTxnEntry lays them out (no digest trailer).
std::string encodeTxn(const Txn& txn);
// Decodes header + body; bytes after the body (ZooKeeper 3.6+'s TxnDigest) are ignored.
Txn decodeTxn(std::string_view bytes);

void writeTxnBody(jute::Writer& out, std::int32_t type, const TxnBody& body);
TxnBody readTxnBody(jute::Reader& in, std::int32_t type);

}  // namespace zk
