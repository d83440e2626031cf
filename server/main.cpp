// zookube-server: a ZooKeeper-compatible coordination server.
//   zookube-server path/to/zoo.cfg   runs in the foreground, like zkServer.sh start-foreground.

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "config/zoo_config.h"
#include "net/probe.h"
#include "net/server.h"
#include "util/log.h"

namespace {

constexpr std::string_view kUsage =
    "Usage: zookube-server [--log-level debug|info|warn|error] ZOO_CFG\n"
    "\n"
    "Runs a ZooKeeper-compatible server in the foreground, configured by a zoo.cfg file\n"
    "with ZooKeeper's keys (tickTime, dataDir, dataLogDir, clientPort, ...). Logs go to\n"
    "stderr. SIGTERM or SIGINT stops it cleanly after flushing the transaction log.\n"
    "\n"
    "Options:\n"
    "  --log-level LEVEL  least severe level to log (default info)\n"
    "  --probe live|ready HOST:PORT|ZOO_CFG\n"
    "                     check a running server and exit 0 (ok) or 1: live = it answers\n"
    "                     ruok; ready = it serves clients (in sync with its ensemble); given\n"
    "                     its zoo.cfg, over TLS with its own stores when it has no clientPort\n"
    "  --version          print the version and exit\n"
    "  --help             print this help and exit\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 for a bad command line or config, 1 when the\n"
    "server cannot start (unusable data directory, port in use, corrupt log) or stops on an\n"
    "unexpected error, 3 when an ensemble member fail-stops because its log, tree or epochs\n"
    "may differ from the ensemble's (a failed log write or fsync, an undecodable committed\n"
    "txn, ...): restarted, it recovers from its disk and resynchronises.\n";

// SIGTERM and SIGINT are held from the start until the server's own handler is installed, so a
// stop asked for while the process starts is a clean stop too (exit 0), not death by signal.
void setStopSignalsBlocked(bool blocked) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &stop, nullptr);
}

int usageError(std::string_view message) {
  std::fprintf(stderr, "zookube-server: %.*s\n%.*s", static_cast<int>(message.size()),
               message.data(), static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

// Anything that escapes the server ends the process with its message, never silently.
int reportEscaped(zk::Logger& log, const char* stage, const char* what) {
  log.error("main", std::string(stage) + ": " + what);
  log.flush();
  std::fprintf(stderr, "zookube-server: %s: %s\n", stage, what);
  return 1;
}

}  // namespace

// Debian's zkServer.sh hands the JAAS file to the JVM in SERVER_JVMFLAGS (or JVMFLAGS) as
// -Djava.security.auth.login.config=<path>; a zoo.cfg key takes precedence.
static std::string jaasFileFromJvmFlags() {
  constexpr std::string_view kFlag = "-Djava.security.auth.login.config=";
  for (const char* name : {"SERVER_JVMFLAGS", "JVMFLAGS"}) {
    const char* value = std::getenv(name);
    std::string_view flags = value == nullptr ? "" : value;
    std::size_t at = flags.find(kFlag);
    if (at == std::string_view::npos) continue;
    std::string_view rest = flags.substr(at + kFlag.size());
    return std::string(rest.substr(0, rest.find(' ')));
  }
  return {};
}

int main(int argc, char** argv) {
  zk::LogLevel level = zk::LogLevel::kInfo;
  const char* configPath = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("zookube-server %s (ZooKeeper 3.8 client protocol)\n", ZOOKUBE_VERSION);
      return 0;
    }
    if (arg == "--probe") {
      zk::ProbeKind kind{};
      if (i + 2 >= argc || !zk::parseProbeKind(argv[i + 1], kind))
        return usageError("--probe needs 'live' or 'ready' and HOST:PORT");
      zk::ProbeResult result = zk::runProbe(kind, argv[i + 2], std::chrono::seconds(3));
      std::fprintf(result.ok ? stdout : stderr, "%s: %s\n", argv[i + 1], result.detail.c_str());
      return result.ok ? 0 : 1;
    }
    if (arg == "--log-level" && i + 1 < argc) {
      std::string_view name = argv[++i];
      if (name == "debug")
        level = zk::LogLevel::kDebug;
      else if (name == "info")
        level = zk::LogLevel::kInfo;
      else if (name == "warn")
        level = zk::LogLevel::kWarn;
      else if (name == "error")
        level = zk::LogLevel::kError;
      else
        return usageError("unknown log level '" + std::string(name) + "'");
      continue;
    }
    if (!arg.empty() && arg[0] == '-')
      return usageError("unknown option '" + std::string(arg) + "'");
    if (configPath != nullptr) return usageError("more than one config file given");
    configPath = argv[i];
  }
  if (configPath == nullptr) return usageError("no config file given");

  setStopSignalsBlocked(true);
  zk::Logger log(level);
  zk::ServerConfig config;
  try {
    config = zk::loadConfig(configPath);
  } catch (const zk::ConfigError& e) {
    std::fprintf(stderr, "zookube-server: invalid configuration: %s\n", e.what());
    return 2;
  }
  for (const auto& warning : config.warnings) log.warn("config", warning);
  if (config.jaasConfigFile.empty()) config.jaasConfigFile = jaasFileFromJvmFlags();

  const char* stage = "cannot start";
  try {
    zk::Server server(std::move(config), log);
    setStopSignalsBlocked(false);  // a stop asked for meanwhile is now the server's to handle
    server.start();
    stage = "stopped by an unexpected error";
    server.run();
  } catch (const std::exception& e) {
    return reportEscaped(log, stage, e.what());
  } catch (...) {
    return reportEscaped(log, stage, "an exception of unknown type");
  }
  log.info("main", "stopped cleanly");
  log.flush();
  return 0;
}
