#include "plan/storage_change.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace zk::op {
namespace {

// The suffixes resource.Quantity accepts, binary and decimal.
std::optional<long double> multiplier(std::string_view suffix) {
  constexpr std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1.0L},      {"Ki", 0x1p10L}, {"Mi", 0x1p20L}, {"Gi", 0x1p30L}, {"Ti", 0x1p40L},
      {"Pi", 0x1p50L}, {"Ei", 0x1p60L}, {"m", 1e-3L},    {"k", 1e3L},     {"M", 1e6L},
      {"G", 1e9L},     {"T", 1e12L},    {"P", 1e15L},    {"E", 1e18L}};
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return factor;
  }
  return std::nullopt;
}

std::string quoted(const std::optional<std::string>& s) {
  return s ? "\"" + *s + "\"" : "(the cluster's default)";
}

}  // namespace

std::optional<long double> quantityBytes(std::string_view q) {
  size_t end = 0;
  while (end < q.size() && (std::isdigit(static_cast<unsigned char>(q[end])) || q[end] == '.' ||
                            (end == 0 && q[end] == '+'))) {
    ++end;
  }
  std::string_view number = q.substr(0, end), suffix = q.substr(end);
  if (number.empty() || number == "+" || number == ".") return std::nullopt;
  int exponent = 0;
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E') &&
      suffix.find_first_not_of("0123456789", 1) == std::string_view::npos) {
    auto [p, ec] = std::from_chars(suffix.data() + 1, suffix.data() + suffix.size(), exponent);
    if (ec != std::errc()) return std::nullopt;
    suffix = {};
  }
  auto factor = multiplier(suffix);
  if (!factor) return std::nullopt;
  std::string digits(number.starts_with('+') ? number.substr(1) : number);
  if (digits.find('.') != digits.rfind('.')) return std::nullopt;
  try {
    return std::stold(digits) * *factor * std::pow(10.0L, exponent);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

StorageDecision decideStorage(const Storage& wanted, const AppliedStorage& applied) {
  if (wanted.storageClassName != applied.storageClassName) {
    return {StorageChange::kRefused,
            "spec.storage.storageClassName: " + quoted(applied.storageClassName) + " -> " +
                quoted(wanted.storageClassName) +
                ": existing volumes cannot move to another class; set it back"};
  }
  auto want = quantityBytes(wanted.size), have = quantityBytes(applied.size);
  if (!want || !have) {
    return {StorageChange::kRefused, "spec.storage.size: cannot compare \"" + wanted.size +
                                         "\" with the volumes' \"" + applied.size + "\""};
  }
  if (*want == *have) return {};
  if (*want < *have) {
    return {StorageChange::kRefused, "spec.storage.size: " + applied.size + " -> " + wanted.size +
                                         ": volumes cannot shrink; set it back to " + applied.size +
                                         " or more"};
  }
  return {StorageChange::kGrow, "spec.storage.size: " + applied.size + " -> " + wanted.size};
}

}  // namespace zk::op
