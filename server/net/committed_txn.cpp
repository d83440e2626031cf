#include "net/committed_txn.h"

#include <string>

#include "jute/reader.h"
#include "util/fail_stop.h"

namespace zk {

Txn decodeCommittedTxn(Logger& log, std::int64_t zxid, std::string_view bytes) {
  try {
    return decodeTxn(bytes);
  } catch (const jute::DecodeError& e) {
    failStop(log, "zab", "committed txn " + hex(zxid) + " is undecodable: " + e.what());
  }
}

}  // namespace zk
