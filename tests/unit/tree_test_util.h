#pragma once
// Txn builders for the tree tests.

#include <string>

#include "protocol/opcodes.h"
#include "protocol/txn.h"

namespace zk::testing {

inline const AclList kOpen{ACL{perms::kAll, Id{"world", "anyone"}}};

inline Txn txn(OpCode type, std::int64_t zxid, TxnBody body, std::int64_t session = 0x55,
               std::int64_t time = 0) {
  return Txn{
      TxnHeader{session, 1, zxid, time == 0 ? 1000 + zxid : time, static_cast<std::int32_t>(type)},
      std::move(body)};
}

inline Txn create(const std::string& path, std::int64_t zxid, std::int32_t parentCVersion,
                  bool ephemeral = false, std::int64_t session = 0x55) {
  return txn(OpCode::kCreate2, zxid, CreateTxn{path, "d:" + path, kOpen, ephemeral, parentCVersion},
             session);
}

inline Txn remove(const std::string& path, std::int64_t zxid) {
  return txn(OpCode::kDelete, zxid, DeleteTxn{path});
}

inline Txn setData(const std::string& path, const std::string& data, std::int32_t version,
                   std::int64_t zxid) {
  return txn(OpCode::kSetData, zxid, SetDataTxn{path, data, version});
}

}  // namespace zk::testing
