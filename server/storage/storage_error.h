#pragma once
// The one exception type of the storage layer: a message a human can act on (which file, which
// offset, what was wrong), raised when the data on disk cannot be trusted or written.

#include <functional>
#include <stdexcept>
#include <string_view>

namespace zk::storage {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where storage reports noteworthy events (torn tails, slow fsyncs, skipped snapshots). The
// default writes one line to stderr; the server plugs in its own logger.
using LogFn = std::function<void(std::string_view line)>;
LogFn stderrLog();

}  // namespace zk::storage
