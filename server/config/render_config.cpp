// The `conf` four-letter word's body (ZooKeeperServer.dumpConf, plus QuorumZooKeeperServer's
// quorum part when the server is a quorum member).

#include <sstream>

#include "config/zoo_config.h"

namespace zk {
namespace {

std::string snapDir(const std::filesystem::path& dir) {
  // ZooKeeper keeps its files in <dir>/version-2 and reports that directory.
  return std::filesystem::absolute(dir / "version-2").string();
}

void renderQuorum(std::ostringstream& out, const ServerConfig& c) {
  auto me = c.servers.find(c.serverId);
  out << "initLimit=" << c.initLimit << '\n'
      << "syncLimit=" << c.syncLimit << '\n'
      << "electionAlg=" << c.electionAlg << '\n'
      << "electionPort=" << (me == c.servers.end() ? 0 : me->second.electionPort) << '\n'
      << "quorumPort=" << (me == c.servers.end() ? 0 : me->second.quorumPort) << '\n'
      << "peerType=" << static_cast<int>(c.peerType) << '\n'
      << "membership: \n";
  for (const auto& [id, entry] : c.servers) {
    out << "server." << id << '=' << formatServerEntry(entry) << '\n';
  }
  out << "version=" << std::hex << c.configVersion << std::dec;
}

}  // namespace

std::string renderConfig(const ServerConfig& c, DirSizes sizes) {
  std::ostringstream out;
  out << "clientPort=" << c.clientPort << '\n'
      << "secureClientPort=" << (c.secureClientPort == 0 ? -1 : c.secureClientPort) << '\n'
      << "dataDir=" << snapDir(c.dataDir) << '\n'
      << "dataDirSize=" << sizes.dataDir << '\n'
      << "dataLogDir=" << snapDir(c.dataLogDir) << '\n'
      << "dataLogSize=" << sizes.dataLog << '\n'
      << "tickTime=" << c.tickTime << '\n'
      << "maxClientCnxns=" << c.maxClientCnxns << '\n'
      << "minSessionTimeout=" << c.minSessionTimeout << '\n'
      << "maxSessionTimeout=" << c.maxSessionTimeout << '\n'
      << "clientPortListenBacklog=" << c.clientPortListenBacklog << '\n'
      << "serverId=" << std::max<std::int64_t>(c.serverId, 0) << '\n';
  if (c.distributed()) renderQuorum(out, c);
  return out.str();
}

}  // namespace zk
