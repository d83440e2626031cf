#pragma once
// The server's request pipeline, replaced whole when the member changes role or reloads its
// state. Connections hold the slot, which the server owns and which outlives every connection,
// never the processor itself: a rebuild cannot leave a connection pointing at a processor that
// is gone, whether or not the connections were closed first.

#include <memory>

#include "pipeline/request_processor.h"

namespace zk {

class PipelineSlot {
 public:
  RequestProcessor& get() const { return *processor_; }
  RequestProcessor* operator->() const { return processor_.get(); }
  void replace(std::unique_ptr<RequestProcessor> next) { processor_ = std::move(next); }

 private:
  std::unique_ptr<RequestProcessor> processor_;
};

}  // namespace zk
