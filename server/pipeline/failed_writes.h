#pragma once
// What a write that fails its checks becomes, as in ZooKeeper: still a txn with its own zxid,
// logged and (in an ensemble) committed, so its client hears the outcome in commit order.

#include <cstddef>

#include "protocol/errors.h"
#include "protocol/txn.h"

namespace zk {

// An error txn (type -1) for the write `header` describes.
Txn errorTxn(const TxnHeader& header, Err err);

// ZooKeeper's record of a failed multi: ops before the failure OK (rolled back), the failed one
// its error, the rest RUNTIMEINCONSISTENCY (never tried).
MultiTxn failedMultiTxn(std::size_t opCount, std::size_t failedIndex, Err err);

}  // namespace zk
