#pragma once
// ZooKeeper 3.8's AdminServer commands (zs/server/admin/Commands.java): each has a primary name
// and aliases, and answers a JSON object that always carries "command" (the primary name, or the
// name asked for when unknown) and "error" (null, or why the command failed). The answers read
// the same Introspection data as the four-letter words, on the event loop thread.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cpprest/json.h>

#include "config/zoo_config.h"
#include "net/introspection.h"

namespace zk::admin {

struct CommandInfo {
  std::string_view primaryName;
  std::vector<std::string_view> aliases;  // the primary name included
  // Refused with "not currently serving" while the server starts or syncs, as ZooKeeper's
  // isServerRequired.
  bool serverRequired;
};

// Every command, in ZooKeeper's registration order.
std::span<const CommandInfo> commandTable();
// The command answering to `name` (primary name or alias, case-sensitive), or null.
const CommandInfo* findCommand(std::string_view name);

// What a command may read and change besides the server's figures.
struct CommandContext {
  Introspection& server;
  const ServerConfig& config;
  std::int64_t& traceMask;  // get_trace_mask/set_trace_mask: kept, used by nothing else
};

// Query parameters of the request, e.g. traceMask for set_trace_mask.
using CommandArgs = std::map<std::string, std::string, std::less<>>;

// The JSON answer to `name`, unknown names included (ZooKeeper answers those with an error).
web::json::value runCommand(std::string_view name, const CommandArgs& args, CommandContext& ctx);

// The page ZooKeeper serves at the command URL itself: a link per primary name, sorted.
std::string commandLinksPage(std::string_view commandUrl);

}  // namespace zk::admin
