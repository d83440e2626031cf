#pragma once
// The operator's client of a running ensemble: reads the dynamic membership (/zookeeper/config)
// and changes it with reconfig, as the super user, over ZooKeeper's own C client
// (libzookeeper-mt). Every call is bounded in time: a member that never answers costs the
// reconcile loop a timeout, never a hang.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "plan/plan.h"

namespace zk::op::zkadmin {

// The membership as /zookeeper/config states it: "server.N=<spec>" lines and "version=<hex>".
struct EnsembleConfig {
  std::int64_t version = 0;
  std::map<int, std::string> servers;  // id -> everything after "server.N="
  EnsembleView view() const;           // participants are voters, the rest observers
  bool operator==(const EnsembleConfig&) const = default;
};

// Throws std::invalid_argument on a line it cannot read.
EnsembleConfig parseEnsembleConfig(std::string_view text);

// "user:base64(sha1(user:password))", the form DigestAuthenticationProvider.superDigest takes.
std::string superDigest(std::string_view user, std::string_view password);

// A new super user password: 24 random bytes as hex. Throws std::runtime_error.
std::string newSuperPassword();

// ZooKeeper's name for a C client result code ("ZNEWCONFIGNOQUORUM"), "ZOK" for 0.
std::string errorName(int rc);

// A failed call: the message starts with errorName(code) and ZooKeeper's explanation.
class AdminError : public std::runtime_error {
 public:
  AdminError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// One session to the ensemble, authenticated as `user:password` (digest). Connects lazily and
// again after any failure; a timed-out call closes the session so no late answer can arrive.
class ZkAdmin {
 public:
  ZkAdmin(std::string connect, std::string user, std::string password,
          std::chrono::milliseconds timeout);
  ~ZkAdmin();
  ZkAdmin(const ZkAdmin&) = delete;
  ZkAdmin& operator=(const ZkAdmin&) = delete;

  const std::string& connect() const { return connect_; }

  // Throws AdminError.
  EnsembleConfig readConfig();
  // `joining`: "server.N=..." lines separated by commas, `leaving`: ids separated by commas;
  // either may be empty. Returns the configuration the reconfig committed. Throws AdminError.
  EnsembleConfig reconfig(const std::string& joining, const std::string& leaving);

 private:
  struct Session;
  Session& session();  // connected and authenticated, or throws
  void drop();

  std::string connect_, user_, password_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Session> session_;
};

}  // namespace zk::op::zkadmin
