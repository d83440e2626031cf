#include "net/pipeline_slot.h"

#include "util/wall_clock.h"

namespace zk {

ProcessorConfig processorConfigOf(const ServerConfig& c, PipelineRole role, Logger& log) {
  ProcessorConfig p;
  p.role = role;
  p.serverId = c.serverId > 0 ? c.serverId : 0;
  p.tickMs = c.tickTime;
  p.minSessionTimeoutMs = c.minSessionTimeout > 0 ? c.minSessionTimeout : 2 * c.tickTime;
  p.maxSessionTimeoutMs = c.maxSessionTimeout > 0 ? c.maxSessionTimeout : 20 * c.tickTime;
  p.extendedTypesEnabled = c.extendedTypesEnabled;
  p.reconfigEnabled = c.reconfigEnabled;
  p.superDigest = c.superDigest;
  p.containerCheckIntervalMs = c.containerCheckIntervalMs;
  p.containerMaxPerMinute = c.containerMaxPerMinute;
  p.enforceQuota = c.enforceQuota;
  p.enforcedAuthSchemes = c.enforcedAuthSchemes();
  p.log = &log;
  return p;
}

void PipelineSlot::rebuild(ProcessorConfig config, DataTree& tree, TxnSink& sink,
                           PipelineLinks links,
                           const std::map<std::int64_t, std::int32_t>& sessions) {
  processor_ =
      std::make_unique<RequestProcessor>(std::move(config), tree, sink, wallMs, std::move(links));
  processor_->restoreSessions(sessions);
}

std::map<std::int64_t, std::int32_t> PipelineSlot::sessions() const {
  std::map<std::int64_t, std::int32_t> open;
  for (const auto& [id, entry] : processor_->sessions().all()) open[id] = entry.timeoutMs;
  return open;
}

}  // namespace zk
