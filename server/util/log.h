#pragma once
// Structured, levelled log lines on stderr, one line per event:
//   2026-11-22T15:04:05.123Z INFO  [net] accepted connection from 127.0.0.1:53412
// A Logger is created once in main and passed down; it is safe to call from any thread.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace zk {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::kInfo) : level_(level) {}
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(LogLevel level) const { return level >= level_; }
  void write(LogLevel level, std::string_view component, std::string_view message);
  void debug(std::string_view c, std::string_view m) { write(LogLevel::kDebug, c, m); }
  void info(std::string_view c, std::string_view m) { write(LogLevel::kInfo, c, m); }
  void warn(std::string_view c, std::string_view m) { write(LogLevel::kWarn, c, m); }
  void error(std::string_view c, std::string_view m) { write(LogLevel::kError, c, m); }
  void flush();

 private:
  LogLevel level_;
  std::mutex mu_;
};

std::string hex(std::int64_t value);  // "0x1f", as ZooKeeper prints ids and zxids

}  // namespace zk
