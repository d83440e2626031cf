#pragma once
// The bytes of a txn the ensemble committed, as this member must apply them.

#include <cstdint>
#include <string_view>

#include "protocol/txn.h"
#include "util/log.h"

namespace zk {

// Decodes the committed txn `zxid`. One that does not decode cannot be skipped: this member's
// tree would stay behind every other member's for good. So it fail-stops (util/fail_stop.h),
// naming the zxid and what was wrong, and recovers from disk after its restart.
Txn decodeCommittedTxn(Logger& log, std::int64_t zxid, std::string_view bytes);

}  // namespace zk
