#pragma once
// The server's request pipeline, replaced whole when the member changes role or reloads its
// state. Connections hold the slot, which the server owns and which outlives every connection,
// never the processor itself: a rebuild cannot leave a connection pointing at a processor that
// is gone, whether or not the connections were closed first.

#include <cstdint>
#include <map>
#include <memory>

#include "config/zoo_config.h"
#include "pipeline/request_processor.h"
#include "util/log.h"

namespace zk {

// The pipeline's settings for `role` from the server's configuration.
ProcessorConfig processorConfigOf(const ServerConfig& config, PipelineRole role, Logger& log);

class PipelineSlot {
 public:
  RequestProcessor& get() const { return *processor_; }
  RequestProcessor* operator->() const { return processor_.get(); }
  // A new processor for `role`'s config over `tree`, carrying `sessions` over.
  void rebuild(ProcessorConfig config, DataTree& tree, TxnSink& sink, PipelineLinks links,
               const std::map<std::int64_t, std::int32_t>& sessions);
  // Drops the processor (the server is going, with what the processor refers to).
  void clear() { processor_.reset(); }
  // The open sessions and their timeouts, to carry over into the next processor or snapshot.
  std::map<std::int64_t, std::int32_t> sessions() const;

 private:
  std::unique_ptr<RequestProcessor> processor_;
};

}  // namespace zk
