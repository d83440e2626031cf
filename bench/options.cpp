#include "options.h"

#include <charconv>
#include <stdexcept>
#include <string>

namespace zk::bench {
namespace {

template <typename T>
T number(std::string_view name, std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument("bad value for --" + std::string(name) + ": " + std::string(text));
  }
  return value;
}

bool knownWorkload(std::string_view w) {
  for (std::string_view k :
       {"get", "set", "mixed", "create", "watch", "session-churn", "ephemeral-churn", "populate"}) {
    if (w == k) return true;
  }
  return false;
}

void assign(Options& o, std::string_view name, std::string_view value) {
  if (name == "hosts") {
    o.hosts = value;
  } else if (name == "workload") {
    o.workload = value;
  } else if (name == "server") {
    o.server = value;
  } else if (name == "sessions") {
    o.sessions = number<int>(name, value);
  } else if (name == "value-size") {
    o.value_size = number<int>(name, value);
  } else if (name == "duration") {
    o.duration_s = number<double>(name, value);
  } else if (name == "warmup") {
    o.warmup_s = number<double>(name, value);
  } else if (name == "outstanding") {
    o.outstanding = number<int>(name, value);
  } else if (name == "keys") {
    o.keys = number<int>(name, value);
  } else if (name == "client-log") {
    o.client_log = value;
  } else if (name == "session-timeout") {
    o.session_timeout_ms = number<int>(name, value);
  } else {
    throw std::invalid_argument("unknown option --" + std::string(name));
  }
}

void validate(const Options& o) {
  if (!knownWorkload(o.workload)) throw std::invalid_argument("unknown workload " + o.workload);
  if (o.sessions < 1 || o.outstanding < 1 || o.keys < 1 || o.value_size < 0) {
    throw std::invalid_argument("sessions, outstanding and keys must be >= 1, value-size >= 0");
  }
  if (o.duration_s <= 0 || o.warmup_s < 0) {
    throw std::invalid_argument("duration must be > 0 and warmup >= 0");
  }
}

}  // namespace

Options parseOptions(int argc, char** argv, bool& help) {
  Options o;
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return o;
    }
    if (!arg.starts_with("--"))
      throw std::invalid_argument("unexpected argument " + std::string(arg));
    arg.remove_prefix(2);
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      assign(o, arg.substr(0, eq), arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      assign(o, arg, argv[++i]);
    } else {
      throw std::invalid_argument("missing value for --" + std::string(arg));
    }
  }
  validate(o);
  return o;
}

std::string_view usage() {
  return "usage: zkbench [--hosts h:p,...] [--workload get|set|mixed|create|watch|session-churn|\n"
         "               ephemeral-churn|populate] [--sessions 32] [--value-size 100]\n"
         "               [--duration 10] [--warmup 2] [--outstanding 100] [--keys 1000]\n"
         "               [--server label] [--session-timeout 30000]\n"
         "               [--client-log error|warn|info|debug]\n"
         "Prints one JSON line with throughput and latency percentiles.\n";
}

}  // namespace zk::bench
