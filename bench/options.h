// Command-line settings of zkbench.
#pragma once

#include <string>
#include <string_view>

namespace zk::bench {

struct Options {
  std::string hosts = "127.0.0.1:2181";
  std::string workload =
      "get";  // get|set|mixed|create|watch|session-churn|ephemeral-churn|populate
  std::string server = "unknown";  // label copied into the JSON line
  int sessions = 32;
  int value_size = 100;
  double duration_s = 10;
  double warmup_s = 2;
  int outstanding = 100;  // requests in flight per session
  int keys = 1000;        // keys read/written; for populate, the number of znodes to create
  int session_timeout_ms = 30000;
  std::string client_log = "error";  // libzookeeper's own log level on stderr
};

// Parses argv; throws std::invalid_argument with a message on bad input. Sets `help` when
// --help was given.
Options parseOptions(int argc, char** argv, bool& help);

std::string_view usage();

}  // namespace zk::bench
