#include "render/client_access.h"

#include <array>
#include <utility>

namespace zk::op {
namespace {

constexpr std::array<std::pair<std::string_view, ClientTls>, 3> kTlsNames{
    {{"off", ClientTls::kOff}, {"both", ClientTls::kBoth}, {"on", ClientTls::kOn}}};

std::optional<bool> boolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

}  // namespace

ClientAccess clientAccessOf(const ZkCluster& c) {
  return {c.spec.tls.client, c.spec.auth.sasl, c.spec.auth.enforce};
}

OperatorConnection operatorConnection(const ClientAccess& a) {
  // `both` keeps the unified plaintext port, which the operator's C client (built without TLS)
  // can use directly; only `on` needs the relay. A SASL provider without enforce still admits
  // the digest super user, so only enforce needs a SASL login.
  return {a.tls == ClientTls::kOn, a.enforce};
}

int operatorPort(const ClientAccess& a, const Ports& p) {
  return operatorConnection(a).tls ? p.secureClient : p.client;
}

std::string formatClientAccess(const ClientAccess& a) {
  std::string tls;
  for (const auto& [name, mode] : kTlsNames) {
    if (mode == a.tls) tls = name;
  }
  return "tls=" + tls + ",sasl=" + (a.sasl ? "true" : "false") +
         ",enforce=" + (a.enforce ? "true" : "false");
}

std::optional<ClientAccess> parseClientAccess(std::string_view text) {
  ClientAccess a;
  bool tls = false, sasl = false, enforce = false;  // each exactly once
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == text.npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == item.npos) return std::nullopt;
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "tls" && !tls) {
      tls = true;
      bool known = false;
      for (const auto& [name, mode] : kTlsNames) {
        if (name != value) continue;
        a.tls = mode;
        known = true;
      }
      if (!known) return std::nullopt;
    } else if ((key == "sasl" && !sasl) || (key == "enforce" && !enforce)) {
      auto b = boolean(value);
      if (!b) return std::nullopt;
      (key == "sasl" ? sasl : enforce) = true;
      (key == "sasl" ? a.sasl : a.enforce) = *b;
    } else {
      return std::nullopt;
    }
  }
  if (!tls || !sasl || !enforce) return std::nullopt;
  return a;
}

ClientAccess recordedOrSpec(std::string_view record, const ZkCluster& c) {
  return parseClientAccess(record).value_or(clientAccessOf(c));
}

}  // namespace zk::op
