#include "pipeline/failed_writes.h"

#include "protocol/opcodes.h"

namespace zk {

Txn errorTxn(const TxnHeader& header, Err err) {
  TxnHeader error = header;
  error.type = static_cast<std::int32_t>(OpCode::kError);
  return Txn{error, ErrorTxn{static_cast<std::int32_t>(err)}};
}

MultiTxn failedMultiTxn(std::size_t opCount, std::size_t failedIndex, Err err) {
  MultiTxn multi;
  for (std::size_t i = 0; i < opCount; ++i) {
    Err code = i < failedIndex ? Err::kOk : i == failedIndex ? err : Err::kRuntimeInconsistency;
    SubTxn& sub = multi.txns.emplace_back();
    sub.type = static_cast<std::int32_t>(OpCode::kError);
    sub.body = ErrorTxn{static_cast<std::int32_t>(code)};
  }
  return multi;
}

}  // namespace zk
