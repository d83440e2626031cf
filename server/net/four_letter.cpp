// Four-letter word replies, formatted as ZooKeeper 3.8's command classes print them
// (zs/server/command/*Command.java, ServerCnxn.dumpConnectionInfo, ServerStats.toString,
// WatchManager.dumpWatches, ExpiryQueue.dump). Where zookube differs:
// - mntr prints its keys in a fixed order (ZooKeeper's order is a hash map's) and only the
//   metrics zookube measures; percentiles (zk_p50_...) are not printed.
// - envi lists the OS and process entries, not the JVM ones.
// - gtmk answers 0 (zookube has no trace mask); hash answers nothing (no digest log).
// - dump's "Connections dump:" section is empty, as with ZooKeeper's Netty connection factory.

#include "net/four_letter.h"

#include "config/four_letter_words.h"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <functional>
#include <sstream>
#include <type_traits>
#include <variant>

namespace zk {
namespace {

constexpr std::uint32_t code(std::string_view name) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(name[0])) << 24 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[1])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[2])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[3]));
}

constexpr std::uint32_t kTelnetCloseCode = 0xfff4fffd;
constexpr std::string_view kTelnetClose = "telnet close";
constexpr std::string_view kNotServing =
    "This ZooKeeper instance is not currently serving requests\n";

std::string hex(std::int64_t v) {
  std::array<char, 17> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::uint64_t>(v), 16);
  return std::string(buf.data(), end);
}

// Java's Date.toString in UTC: "Sun Nov 22 15:30:07 UTC 2026".
std::string javaDate(std::int64_t epochMs) {
  std::time_t secs = static_cast<std::time_t>(epochMs / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  std::size_t n = std::strftime(buf.data(), buf.size(), "%a %b %d %H:%M:%S UTC %Y", &tm);
  return std::string(buf.data(), n);
}

void connectionInfo(std::ostream& out, const ConnectionStats& c, bool brief) {
  out << ' ' << c.remote << '[' << (c.interestOps == 0 ? "0" : hex(c.interestOps))
      << "](queued=" << c.queued << ",recved=" << c.received << ",sent=" << c.sent;
  if (!brief && c.sessionId != 0) {
    out << ",sid=0x" << hex(c.sessionId) << ",lop=" << c.lastOp << ",est=" << c.establishedMs
        << ",to=" << c.timeout;
    if (c.lastCxid >= 0) out << ",lcxid=0x" << hex(c.lastCxid);
    out << ",lzxid=0x" << hex(c.lastZxid) << ",lresp=" << c.lastResponseMs
        << ",llat=" << c.lastLatencyMs << ",minlat=" << c.minLatencyMs
        << ",avglat=" << c.avgLatencyMs << ",maxlat=" << c.maxLatencyMs;
  }
  if (c.secure) out << ",secure=1";
  out << ')';
}

std::string stat(Introspection& server, bool withClients) {
  ServerStats s = server.stats({});
  std::ostringstream out;
  out << "Zookeeper version: " << versionOf(s) << '\n';
  if (server.readOnly()) out << "READ-ONLY mode; serving only read-only clients\n";
  if (withClients) {
    out << "Clients:\n";
    for (const ConnectionStats& c : server.connections()) {
      connectionInfo(out, c, true);
      out << '\n';
    }
    out << '\n';
  }
  out << "Latency min/avg/max: " << s.requestLatency.min << '/'
      << javaDouble(averageOf(s.requestLatency)) << '/' << s.requestLatency.max << '\n'
      << "Received: " << s.packetsReceived << "\nSent: " << s.packetsSent
      << "\nConnections: " << s.aliveConnections << "\nOutstanding: " << s.outstandingRequests
      << "\nZxid: 0x" << hex(s.lastZxid) << "\nMode: " << s.serverState
      << "\nNode count: " << s.nodeCount << '\n';
  if (s.leader) {
    out << "Proposal sizes last/min/max: " << s.leader->proposalSize.last << '/'
        << s.leader->proposalSize.min << '/' << s.leader->proposalSize.max << '\n';
  }
  return out.str();
}

std::string cons(Introspection& server) {
  std::ostringstream out;
  for (const ConnectionStats& c : server.connections()) {
    connectionInfo(out, c, false);
    out << '\n';
  }
  out << '\n';
  return out.str();
}

void monitorLeader(MonitorEntries& w, const LeaderStats& l) {
  w.put("learners", l.learners);
  w.put("synced_followers", l.syncedFollowers);
  w.put("synced_non_voting_followers", l.syncedNonVotingFollowers);
  w.put("synced_observers", l.syncedObservers);
  w.put("pending_syncs", l.pendingSyncs);
  w.put("leader_uptime", l.leaderUptimeMs);
  w.put("last_proposal_size", l.proposalSize.last);
  w.put("max_proposal_size", l.proposalSize.max);
  w.put("min_proposal_size", l.proposalSize.min);
}

std::string mntr(Introspection& server) {
  std::ostringstream out;
  for (const auto& [key, value] : monitorEntries(server)) {
    out << "zk_" << key << '\t';
    std::visit(
        [&out](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>)
            out << javaDouble(v);
          else
            out << v;
        },
        value);
    out << '\n';
  }
  return out.str();
}

std::string wchs(Introspection& server) {
  auto bySession = server.watchesBySession();
  std::size_t total = 0;
  for (const auto& [session, paths] : bySession) total += paths.size();
  return std::to_string(bySession.size()) + " connections watching " +
         std::to_string(server.watchesByPath().size()) +
         " paths\nTotal watches:" + std::to_string(total) + "\n";
}

std::string wchc(Introspection& server) {
  std::string out;
  for (const auto& [session, paths] : server.watchesBySession()) {
    out += "0x" + hex(session) + "\n";
    for (const auto& path : paths) out += "\t" + path + "\n";
  }
  return out + "\n";
}

std::string wchp(Introspection& server) {
  std::string out;
  for (const auto& [path, sessions] : server.watchesByPath()) {
    out += path + "\n";
    for (std::int64_t session : sessions) out += "\t0x" + hex(session) + "\n";
  }
  return out + "\n";
}

std::string dump(Introspection& server) {
  SessionDump d = server.sessions();
  std::size_t sessions = 0;
  for (const auto& [when, ids] : d.expiryBuckets) sessions += ids.size();
  std::ostringstream out;
  out << "SessionTracker dump:\nSession Sets (" << d.expiryBuckets.size() << ")/(" << sessions
      << "):\n";
  for (const auto& [when, ids] : d.expiryBuckets) {
    out << ids.size() << " expire at " << javaDate(when) << ":\n";
    for (std::int64_t id : ids) out << "\t0x" << hex(id) << '\n';
  }
  out << "ephemeral nodes dump:\nSessions with Ephemerals (" << d.ephemerals.size() << "):\n";
  for (const auto& [id, paths] : d.ephemerals) {
    out << "0x" << hex(id) << ":\n";
    for (const auto& path : paths) out << '\t' << path << '\n';
  }
  out << "Connections dump:\n";
  return out.str();
}

std::string envi(Introspection& server) {
  std::string out = "Environment:\n";
  for (const auto& [key, value] : environmentEntries(versionOf(server.stats({}))))
    out += key + "=" + value + "\n";
  return out;
}

// Commands that need a serving server; the others answer even while it starts.
std::optional<std::string> servingCommand(std::string_view cmd, Introspection& server,
                                          const ServerConfig& config) {
  if (cmd == "stat" || cmd == "srvr") return stat(server, cmd == "stat");
  if (cmd == "cons") return cons(server);
  if (cmd == "mntr") return mntr(server);
  if (cmd == "wchs") return wchs(server);
  if (cmd == "wchc") return wchc(server);
  if (cmd == "wchp") return wchp(server);
  if (cmd == "dump") return dump(server);
  if (cmd == "hash") return std::string();
  if (cmd == "dirs") {
    ServerStats s = server.stats({.directorySizes = true});
    return "datadir_size: " + std::to_string(s.dataDirSize) +
           "\nlogdir_size: " + std::to_string(s.logDirSize) + "\n";
  }
  if (cmd == "conf") {
    ServerStats s = server.stats({.directorySizes = true});
    return renderConfig(config, DirSizes{s.dataDirSize, s.logDirSize});
  }
  if (cmd == "srst") {
    server.resetStats();
    return std::string("Server stats reset.\n");
  }
  if (cmd == "crst") {
    server.resetConnectionStats();
    return std::string("Connection stats reset.\n");
  }
  return std::nullopt;
}

}  // namespace

void MonitorEntries::summary(std::string_view name, const LatencyStats& s) {
  put("avg_" + std::string(name), averageOf(s));
  put("min_" + std::string(name), s.min);
  put("max_" + std::string(name), s.max);
  put("cnt_" + std::string(name), s.count);
  put("sum_" + std::string(name), s.sum);
}

std::vector<MonitorEntry> monitorEntries(Introspection& server) {
  ServerStats s = server.stats({.fileDescriptors = true});
  MonitorEntries w;
  w.put("version", versionOf(s));
  w.put("server_state", s.serverState);
  if (!s.peerState.empty()) w.put("peer_state", s.peerState);
  w.put("avg_latency", averageOf(s.requestLatency));
  w.put("max_latency", s.requestLatency.max);
  w.put("min_latency", s.requestLatency.min);
  w.put("packets_received", s.packetsReceived);
  w.put("packets_sent", s.packetsSent);
  w.put("num_alive_connections", s.aliveConnections);
  w.put("outstanding_requests", s.outstandingRequests);
  w.put("uptime", s.uptimeMs);
  w.put("znode_count", s.nodeCount);
  w.put("watch_count", s.watchCount);
  w.put("ephemerals_count", s.ephemeralsCount);
  w.put("approximate_data_size", s.approximateDataSize);
  w.put("global_sessions", s.globalSessions);
  w.put("local_sessions", s.localSessions);
  w.put("open_file_descriptor_count", s.openFileDescriptors);
  w.put("max_file_descriptor_count", s.maxFileDescriptors);
  w.put("last_client_response_size", s.lastClientResponseSize);
  w.put("max_client_response_size", s.maxClientResponseSize);
  w.put("min_client_response_size", s.minClientResponseSize);
  w.put("auth_failed_count", s.authFailedCount);
  w.put("large_requests_rejected", s.largeRequestsRejected);
  w.put("unsuccessful_handshake", s.unsuccessfulHandshakes);
  w.put("tls_handshake_exceeded", s.tlsHandshakesExceeded);
  w.put("quorum_tls_handshakes", s.quorumTlsHandshakes);
  w.put("quorum_unsuccessful_handshake", s.quorumUnsuccessfulHandshakes);
  w.put("quorum_sasl_auth_success", s.quorumSaslAuthenticated);
  w.put("quorum_sasl_auth_fail", s.quorumSaslFailed);
  // ZooKeeper's gauge and counter sets print as <key>_<name>.
  for (const auto& [ns, q] : s.quotaByNamespace) {
    w.put(ns + "_quota_count_limit_per_namespace", q.countLimit);
    w.put(ns + "_quota_bytes_limit_per_namespace", q.bytesLimit);
    w.put(ns + "_quota_count_usage_per_namespace", q.countUsage);
    w.put(ns + "_quota_bytes_usage_per_namespace", q.bytesUsage);
  }
  for (const auto& [ns, n] : s.quotaExceededByNamespace)
    w.put(ns + "_quota_exceeded_error_per_namespace", n);
  if (s.quorumSize > 0) w.put("quorum_size", s.quorumSize);
  if (s.leader) monitorLeader(w, *s.leader);
  if (s.follower) w.put("synced_observers", s.follower->syncedObservers);
  if (s.quorumSize > 0) w.summary("election_time", s.electionTime);
  w.summary("fsynctime", s.fsyncTime);
  w.summary("readlatency", s.readLatency);
  w.summary("updatelatency", s.updateLatency);
  return std::move(w.entries);
}

std::vector<std::pair<std::string, std::string>> environmentEntries(const std::string& version) {
  std::vector<std::pair<std::string, std::string>> out{{"zookeeper.version", version}};
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) out.emplace_back("host.name", host.data());
  utsname uts{};
  if (uname(&uts) == 0) {
    out.emplace_back("os.name", uts.sysname);
    out.emplace_back("os.arch", uts.machine);
    out.emplace_back("os.version", uts.release);
  }
  std::array<char, 1024> pwbuf{};
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &pw, pwbuf.data(), pwbuf.size(), &found) == 0 && found) {
    out.emplace_back("user.name", pw.pw_name);
    out.emplace_back("user.home", pw.pw_dir);
  }
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (!ec) out.emplace_back("user.dir", cwd.string());
  out.emplace_back("process.id", std::to_string(getpid()));
  return out;
}

std::string versionOf(const ServerStats& s) {
  return s.version.empty() ? zookubeVersion() : s.version;
}

std::optional<std::string_view> fourLetterName(std::uint32_t first4bytes) {
  if (first4bytes == kTelnetCloseCode) return kTelnetClose;
  for (std::string_view name : kFourLetterWords) {
    if (code(name) == first4bytes) return name;
  }
  return std::nullopt;
}

std::string zookubeVersion() {
  return std::string("3.8.0-zookube-") + ZOOKUBE_VERSION;
}

std::string runFourLetter(std::string_view cmd, Introspection& server, const ServerConfig& config) {
  if (cmd == kTelnetClose) return {};
  if (!config.fourLetterEnabled(cmd)) {
    return std::string(cmd) + " is not executed because it is not in the whitelist.\n";
  }
  if (cmd == "ruok") return "imok";
  if (cmd == "envi") return envi(server);
  if (cmd == "gtmk") return "0";
  if (cmd == "isro") return !server.serving() ? "null" : server.readOnly() ? "ro" : "rw";
  if (!server.serving()) {
    return cmd == "hash" ? std::string(kNotServing.substr(0, kNotServing.size() - 1))
                         : std::string(kNotServing);
  }
  return servingCommand(cmd, server, config).value_or(std::string());
}

std::string setTraceMaskReply(std::int64_t mask) {
  return std::to_string(mask);
}

double averageOf(const LatencyStats& stats) {
  if (stats.count <= 0) return 0.0;
  double avg = static_cast<double>(stats.sum) / static_cast<double>(stats.count);
  return std::floor(avg * 10000.0 + 0.5) / 10000.0;
}

std::string javaDouble(double value) {
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  std::array<char, 64> buf{};
  double mag = std::fabs(value);
  if (mag >= 1e-3 && mag < 1e7) {
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
    std::string s(buf.data(), end);
    return s.find('.') == std::string::npos ? s + ".0" : s;
  }
  // Java's computerized scientific notation: "1.0E7", "1.234E-5".
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  std::string s(buf.data(), end);
  std::size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  int exponent = std::stoi(s.substr(e + 1));
  return mantissa + "E" + std::to_string(exponent);
}

}  // namespace zk
