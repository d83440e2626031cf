// The AdminServer's commands as ZooKeeper 3.8 answers them (field names and value types from
// zs/server/admin/Commands.java and what Debian's ZooKeeper 3.8 answers). Where zookube
// differs: environment and system_properties list the OS and process entries, not the JVM's;
// monitor has the figures zookube measures (the same as mntr); hash has no digests.

#include "net/admin_commands.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <set>

#include "net/four_letter.h"
#include "util/utf8.h"

namespace zk::admin {
namespace {

using web::json::value;

constexpr std::string_view kNotServing =
    "This ZooKeeper instance is not currently serving requests";

value number(std::int64_t v) {
  return value::number(v);
}

value idList(const std::vector<std::int64_t>& ids) {
  value out = value::array(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) out[i] = number(ids[i]);
  return out;
}

// A znode path as ZooKeeper holds it, a Java String: bytes that are not UTF-8 (only a snapshot
// can hold them; a request with such a path is refused) read as U+FFFD, so the JSON stays valid.
value pathList(const std::vector<std::string>& paths) {
  value out = value::array(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i)
    out[i] = value::string(withMalformedUtf8Replaced(paths[i]));
  return out;
}

std::string hex(std::int64_t v) {
  std::array<char, 17> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::uint64_t>(v), 16);
  return std::string(buf.data(), end);
}

// ServerCnxn.getConnectionInfo: the brief form is what `stats` lists.
value connectionInfo(const ConnectionStats& c, bool brief) {
  value out = value::object();
  std::string_view remote = c.remote;
  if (!remote.empty() && remote.front() == '/') remote.remove_prefix(1);
  out["remote_socket_address"] = value::string(std::string(remote));
  out["interest_ops"] = number(c.interestOps);
  out["outstanding_requests"] = number(c.queued);
  out["packets_received"] = number(c.received);
  out["packets_sent"] = number(c.sent);
  if (brief) return out;
  out["session_id"] = number(c.sessionId);
  out["last_operation"] = value::string(c.lastOp);
  out["established"] = number(c.establishedMs);
  out["session_timeout"] = number(c.timeout);
  out["last_cxid"] = number(c.lastCxid);
  out["last_zxid"] = number(c.lastZxid);
  out["last_response_time"] = number(c.lastResponseMs);
  out["last_latency"] = number(c.lastLatencyMs);
  out["min_latency"] = number(c.minLatencyMs);
  out["avg_latency"] = number(c.avgLatencyMs);
  out["max_latency"] = number(c.maxLatencyMs);
  return out;
}

// ZooKeeper lists plaintext and TLS connections apart.
void putConnections(value& out, Introspection& server, bool brief) {
  std::vector<value> plain;
  std::vector<value> secure;
  for (const ConnectionStats& c : server.connections())
    (c.secure ? secure : plain).push_back(connectionInfo(c, brief));
  out["connections"] = value::array(plain);
  out["secure_connections"] = value::array(secure);
}

value bufferStats(const SizeStats& s) {
  value out = value::object();
  out["last_buffer_size"] = number(s.last);
  out["min_buffer_size"] = number(s.min);
  out["max_buffer_size"] = number(s.max);
  return out;
}

// ServerStats as Jackson serializes ZooKeeper's ServerStats bean.
value serverStatsBody(const ServerStats& s) {
  SizeStats responses{s.lastClientResponseSize, s.minClientResponseSize, s.maxClientResponseSize};
  value out = value::object();
  out["packets_sent"] = number(s.packetsSent);
  out["packets_received"] = number(s.packetsReceived);
  out["fsync_threshold_exceed_count"] = number(0);
  out["client_response_stats"] = bufferStats(responses);
  out["data_dir_size"] = number(s.dataDirSize);
  out["log_dir_size"] = number(s.logDirSize);
  out["provider_null"] = value::boolean(false);
  out["server_state"] = value::string(s.serverState);
  out["last_processed_zxid"] = number(s.lastZxid);
  out["outstanding_requests"] = number(s.outstandingRequests);
  out["avg_latency"] = value::number(averageOf(s.requestLatency));
  out["max_latency"] = number(s.requestLatency.max);
  out["min_latency"] = number(s.requestLatency.min);
  out["num_alive_client_connections"] = number(s.aliveConnections);
  out["auth_failed_count"] = number(s.authFailedCount);
  out["non_mtlsremote_conn_count"] = number(0);
  out["non_mtlslocal_conn_count"] = number(0);
  out["uptime"] = number(s.uptimeMs);
  return out;
}

void serverStats(value& out, CommandContext& ctx) {
  ServerStats s = ctx.server.stats({.directorySizes = true});
  SizeStats responses{s.lastClientResponseSize, s.minClientResponseSize, s.maxClientResponseSize};
  out["version"] = value::string(versionOf(s));
  out["read_only"] = value::boolean(ctx.server.readOnly());
  out["server_stats"] = serverStatsBody(s);
  out["client_response"] = bufferStats(responses);
  if (s.leader) out["proposal_stats"] = bufferStats(s.leader->proposalSize);
  out["node_count"] = number(s.nodeCount);
}

// ZooKeeperServer.getConf().toMap(): the same keys on an ensemble member.
void configuration(value& out, CommandContext& ctx) {
  const ServerConfig& c = ctx.config;
  auto versionDir = [](const std::filesystem::path& dir) {
    return std::filesystem::absolute(dir / "version-2").string();
  };
  out["client_port"] = number(c.clientPort);
  out["data_dir"] = value::string(versionDir(c.dataDir));
  out["data_log_dir"] = value::string(versionDir(c.dataLogDir));
  out["tick_time"] = number(c.tickTime);
  out["max_client_cnxns"] = number(c.maxClientCnxns);
  out["min_session_timeout"] = number(c.minSessionTimeout);
  out["max_session_timeout"] = number(c.maxSessionTimeout);
  out["server_id"] = number(std::max<std::int64_t>(c.serverId, 0));
  out["client_port_listen_backlog"] = number(c.clientPortListenBacklog);
}

std::string hostPort(const std::string& host, std::uint16_t port) {
  return host + ":" + std::to_string(port);
}

// ZooKeeper's MultipleAddresses as Jackson serializes it, for one address.
value addresses(const std::string& host, std::uint16_t port) {
  std::string address = hostPort(host, port);
  value one = value::array({value::string(address)});
  value out = value::object();
  out["empty"] = value::boolean(false);
  out["all_addresses"] = one;
  out["all_reachable_addresses"] = one;
  out["one"] = value::string(address);
  out["reachable_address"] = value::string(address);
  out["wildcard_addresses"] = value::array({value::string(hostPort("0.0.0.0", port))});
  out["all_ports"] = value::array({number(port)});
  out["all_host_strings"] = value::array({value::string(host)});
  out["all_reachable_addresses_or_all"] = one;
  out["reachable_or_one"] = value::string(address);
  return out;
}

void dump(value& out, CommandContext& ctx) {
  SessionDump d = ctx.server.sessions();
  value expiry = value::object();
  for (const auto& [when, ids] : d.expiryBuckets) expiry[std::to_string(when)] = idList(ids);
  value ephemerals = value::object();
  for (const auto& [id, paths] : d.ephemerals) ephemerals[std::to_string(id)] = pathList(paths);
  out["expiry_time_to_session_ids"] = expiry;
  out["session_id_to_ephemeral_paths"] = ephemerals;
}

void monitor(value& out, CommandContext& ctx) {
  for (auto& [key, figure] : monitorEntries(ctx.server)) {
    out[key] = std::visit(
        [](const auto& v) -> value {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>)
            return value::string(v);
          else
            return value::number(v);
        },
        figure);
  }
}

void environment(value& out, CommandContext& ctx) {
  for (auto& [key, v] : environmentEntries(versionOf(ctx.server.stats({}))))
    out[key] = value::string(v);
}

// Java's system properties that have a meaning outside a JVM.
void systemProperties(value& out, CommandContext& ctx) {
  static const std::set<std::string_view> kShared{"os.name",   "os.arch",   "os.version",
                                                  "user.name", "user.home", "user.dir"};
  out["file.separator"] = value::string("/");
  out["line.separator"] = value::string("\n");
  out["path.separator"] = value::string(":");
  for (auto& [key, v] : environmentEntries(versionOf(ctx.server.stats({}))))
    if (kShared.contains(key)) out[key] = value::string(v);
}

void setTraceMask(value& out, const CommandArgs& args, CommandContext& ctx) {
  auto arg = args.find("traceMask");
  if (arg == args.end()) {
    out["error"] = value::string("setTraceMask requires long traceMask argument");
    return;
  }
  std::int64_t mask = 0;
  const std::string& text = arg->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mask);
  if (ec != std::errc() || end != text.data() + text.size()) {
    out["error"] = value::string("setTraceMask requires long traceMask argument, got " + text);
    return;
  }
  ctx.traceMask = mask;
  out["tracemask"] = number(mask);
}

void leader(value& out, CommandContext& ctx) {
  ServerStats s = ctx.server.stats({});
  if (s.quorumSize == 0) {
    out["error"] = value::string("server is not initialized");
    return;
  }
  auto entry = ctx.config.servers.find(s.leaderId);
  out["is_leader"] = value::boolean(s.leader.has_value());
  out["leader_id"] = number(s.leaderId);
  out["leader_ip"] =
      value::string(entry == ctx.config.servers.end() ? std::string() : entry->second.host);
}

// QuorumServerView: a voter's addresses and role.
void votingView(value& out, CommandContext& ctx) {
  value view = value::object();
  if (ctx.config.distributed()) {
    for (const auto& [sid, entry] : ctx.config.servers) {
      if (entry.role == PeerRole::kObserver) continue;
      value server = value::object();
      server["server_addresses"] =
          value::array({value::string(hostPort(entry.host, entry.quorumPort))});
      server["election_addresses"] =
          value::array({value::string(hostPort(entry.host, entry.electionPort))});
      std::string clientHost = entry.clientHost.empty() ? "0.0.0.0" : entry.clientHost;
      server["client_address"] = value::string(hostPort(clientHost, entry.clientPort));
      server["learner_type"] = value::string("participant");
      view[std::to_string(sid)] = server;
    }
  }
  out["current_config"] = view;
}

void zabState(value& out, CommandContext& ctx) {
  ServerStats s = ctx.server.stats({});
  if (s.quorumSize == 0) {
    out["voting"] = value::boolean(false);
    out["zabstate"] = value::string("");
    return;
  }
  const ServerConfig& c = ctx.config;
  auto me = c.servers.find(c.serverId);
  bool voting = me != c.servers.end() && me->second.role != PeerRole::kObserver;
  out["myid"] = number(c.serverId);
  out["is_leader"] = value::boolean(s.leader.has_value());
  if (me != c.servers.end()) {
    out["quorum_address"] = addresses(me->second.host, me->second.quorumPort);
    out["election_address"] = addresses(me->second.host, me->second.electionPort);
  }
  std::string clientHost = c.clientPortAddress.empty() ? "0.0.0.0" : c.clientPortAddress;
  out["client_address"] = value::string(hostPort(clientHost, c.clientPort));
  out["voting"] = value::boolean(voting);
  out["last_zxid"] = value::string("0x" + hex(s.lastZxid));
  out["zab_epoch"] = number(s.lastZxid >> 32);
  out["zab_counter"] = number(s.lastZxid & 0xffffffff);
  // "following - broadcast" -> "broadcast", as QuorumPeer.ZabState names the phase.
  std::string phase = s.peerState.substr(s.peerState.find_last_of(' ') + 1);
  out["zabstate"] = value::string(phase == "looking" ? "election" : phase);
}

void watchSummary(value& out, CommandContext& ctx) {
  auto bySession = ctx.server.watchesBySession();
  std::int64_t total = 0;
  for (const auto& [session, paths] : bySession) total += static_cast<std::int64_t>(paths.size());
  out["num_connections"] = number(static_cast<std::int64_t>(bySession.size()));
  out["num_paths"] = number(static_cast<std::int64_t>(ctx.server.watchesByPath().size()));
  out["num_total_watches"] = number(total);
}

void watches(value& out, CommandContext& ctx) {
  value bySession = value::object();
  for (const auto& [session, paths] : ctx.server.watchesBySession())
    bySession[std::to_string(session)] = pathList(paths);
  out["session_id_to_watched_paths"] = bySession;
}

void watchesByPath(value& out, CommandContext& ctx) {
  value byPath = value::object();
  for (const auto& [path, sessions] : ctx.server.watchesByPath())
    byPath[withMalformedUtf8Replaced(path)] = idList(sessions);
  out["path_to_session_ids"] = byPath;
}

void lastSnapshot(value& out, CommandContext& ctx) {
  ServerStats s = ctx.server.stats({});
  out["zxid"] = value::string(hex(s.lastSnapshotZxid));
  out["timestamp"] = number(s.lastSnapshotTimeSec);
}

using Handler = std::function<void(value&, const CommandArgs&, CommandContext&)>;

// Adapts a handler that takes no arguments.
template <typename F>
Handler plain(F f) {
  return [f](value& out, const CommandArgs&, CommandContext& ctx) { f(out, ctx); };
}

struct Command {
  CommandInfo info;
  Handler run;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {{"connection_stat_reset", {"connection_stat_reset", "crst"}, true},
       plain([](value&, CommandContext& ctx) { ctx.server.resetConnectionStats(); })},
      {{"configuration", {"configuration", "conf", "config"}, true}, plain(configuration)},
      {{"connections", {"connections", "cons"}, true},
       plain([](value& out, CommandContext& ctx) { putConnections(out, ctx.server, false); })},
      {{"hash", {"hash"}, true},
       plain([](value& out, CommandContext&) { out["digests"] = value::array(); })},
      {{"dirs", {"dirs"}, true}, plain([](value& out, CommandContext& ctx) {
         ServerStats s = ctx.server.stats({.directorySizes = true});
         out["datadir_size"] = number(s.dataDirSize);
         out["logdir_size"] = number(s.logDirSize);
       })},
      {{"dump", {"dump"}, true}, plain(dump)},
      {{"environment", {"environment", "env", "envi"}, false}, plain(environment)},
      {{"get_trace_mask", {"get_trace_mask", "gtmk"}, false},
       plain([](value& out, CommandContext& ctx) { out["tracemask"] = number(ctx.traceMask); })},
      {{"initial_configuration", {"initial_configuration", "icfg"}, true},
       plain([](value& out, CommandContext& ctx) {
         out["initial_configuration"] = value::string(ctx.config.initialConfig);
       })},
      {{"is_read_only", {"is_read_only", "isro"}, true}, plain([](value& out, CommandContext& ctx) {
         out["read_only"] = value::boolean(ctx.server.readOnly());
       })},
      {{"last_snapshot", {"last_snapshot", "lsnp"}, true}, plain(lastSnapshot)},
      {{"leader", {"leader", "lead"}, true}, plain(leader)},
      {{"monitor", {"monitor", "mntr"}, false}, plain(monitor)},
      {{"observer_connection_stat_reset", {"observer_connection_stat_reset", "orst"}, true},
       plain([](value&, CommandContext&) {})},
      {{"ruok", {"ruok"}, true}, plain([](value&, CommandContext&) {})},
      {{"set_trace_mask", {"set_trace_mask", "stmk"}, false}, setTraceMask},
      {{"server_stats", {"server_stats", "srvr"}, true}, plain(serverStats)},
      {{"stats", {"stats", "stat"}, true}, plain([](value& out, CommandContext& ctx) {
         serverStats(out, ctx);
         putConnections(out, ctx.server, true);
       })},
      {{"stat_reset", {"stat_reset", "srst"}, true},
       plain([](value&, CommandContext& ctx) { ctx.server.resetStats(); })},
      {{"observers", {"observers", "obsr"}, true}, plain([](value& out, CommandContext& ctx) {
         ServerStats s = ctx.server.stats({});
         std::int64_t synced = s.leader     ? s.leader->syncedObservers
                               : s.follower ? s.follower->syncedObservers
                                            : 0;
         out["synced_observers"] = number(synced);
         out["observers"] = value::array();
       })},
      {{"system_properties", {"system_properties", "sysp"}, false}, plain(systemProperties)},
      {{"voting_view", {"voting_view"}, true}, plain(votingView)},
      {{"watches", {"watches", "wchc"}, true}, plain(watches)},
      {{"watches_by_path", {"watches_by_path", "wchp"}, true}, plain(watchesByPath)},
      {{"watch_summary", {"watch_summary", "wchs"}, true}, plain(watchSummary)},
      {{"zabstate", {"zabstate"}, false}, plain(zabState)},
  };
  return table;
}

const Command* find(std::string_view name) {
  for (const Command& c : commands()) {
    if (std::find(c.info.aliases.begin(), c.info.aliases.end(), name) != c.info.aliases.end())
      return &c;
  }
  return nullptr;
}

value answer(std::string_view command, std::optional<std::string_view> error) {
  value out = value::object();
  out["command"] = value::string(std::string(command));
  out["error"] = error ? value::string(std::string(*error)) : value::null();
  return out;
}

}  // namespace

std::span<const CommandInfo> commandTable() {
  static const std::vector<CommandInfo> infos = [] {
    std::vector<CommandInfo> out;
    for (const Command& c : commands()) out.push_back(c.info);
    return out;
  }();
  return infos;
}

const CommandInfo* findCommand(std::string_view name) {
  const Command* c = find(name);
  return c ? &c->info : nullptr;
}

value runCommand(std::string_view name, const CommandArgs& args, CommandContext& ctx) {
  const Command* command = find(name);
  if (!command) return answer(name, "Unknown command: " + std::string(name));
  if (command->info.serverRequired && !ctx.server.serving()) return answer(name, kNotServing);
  value out = answer(command->info.primaryName, std::nullopt);
  command->run(out, args, ctx);
  return out;
}

std::string commandLinksPage(std::string_view commandUrl) {
  std::vector<std::string_view> names;
  for (const CommandInfo& c : commandTable()) names.push_back(c.primaryName);
  std::sort(names.begin(), names.end());
  std::string page;
  for (std::string_view name : names) {
    page += "<a href=\"" + std::string(commandUrl) + "/" + std::string(name) + "\">" +
            std::string(name) + "</a>\n<br/>\n";
  }
  return page;
}

}  // namespace zk::admin
