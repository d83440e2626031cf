#include "sasl/sasl_client.h"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <vector>

#include "sasl/gss_credential.h"

namespace zk::sasl {
namespace {

template <typename Function>
sasl_callback_ft callback(Function* function) {
  return reinterpret_cast<sasl_callback_ft>(reinterpret_cast<void (*)()>(function));
}

// SASL_CB_AUTHNAME: the JAAS username.
int giveName(void* context, int /*id*/, const char** result, unsigned* length) {
  const auto& s = *static_cast<const ClientSettings*>(context);
  *result = s.username.c_str();
  if (length != nullptr) *length = static_cast<unsigned>(s.username.size());
  return SASL_OK;
}

// SASL_CB_USER: the authorization id, which ZooKeeper's quorum server insists is the
// authentication id (the username, or the full Kerberos principal).
int giveAuthorizationId(void* context, int /*id*/, const char** result, unsigned* length) {
  const auto& s = *static_cast<const ClientSettings*>(context);
  const std::string& id = s.authorizationId.empty() ? s.username : s.authorizationId;
  *result = id.c_str();
  if (length != nullptr) *length = static_cast<unsigned>(id.size());
  return SASL_OK;
}

// The library wants the password as a sasl_secret_t it may keep until the connection ends: the
// connection's Conn owns that buffer (the context).
int givePassword(sasl_conn_t* /*conn*/, void* context, int /*id*/, sasl_secret_t** secret) {
  auto* buffer = static_cast<std::vector<unsigned char>*>(context);
  *secret = reinterpret_cast<sasl_secret_t*>(buffer->data());
  return SASL_OK;
}

// The realm the server offers (ZooKeeper's is its service host): take the first.
int giveRealm(void* /*context*/, int /*id*/, const char** available, const char** result) {
  *result = available != nullptr && available[0] != nullptr ? available[0] : "";
  return SASL_OK;
}

void initLibrary() {
  static std::once_flag once;
  static int result = SASL_OK;
  std::call_once(once, [] { result = sasl_client_init(nullptr); });
  if (result != SASL_OK)
    throw Error(std::string("cannot initialise Cyrus SASL's client: ") +
                sasl_errstring(result, nullptr, nullptr));
}

std::string option(const jaas::LoginModule& module, std::string_view key) {
  auto it = module.options.find(key);
  return it == module.options.end() ? std::string() : it->second;
}

// Krb5LoginModule's options, with its rules: ticketCache only with useTicketCache=true; a keytab
// login names its keyTab and principal.
ClientSettings kerberosSettings(const jaas::LoginModule& module, std::string_view section) {
  auto invalid = [&](const std::string& why) {
    return Error("JAAS section '" + std::string(section) + "': " + why);
  };
  ClientSettings s;
  s.mechanism = "GSSAPI";
  s.principal = option(module, "principal");
  bool useKeyTab = option(module, "useKeyTab") == "true";
  bool useTicketCache = option(module, "useTicketCache") == "true";
  std::string cache = option(module, "ticketCache");
  if (!cache.empty() && !useTicketCache)
    throw invalid("ticketCache is set but useTicketCache is not true");
  if (useTicketCache) s.ticketCache = cache;
  if (useKeyTab) {
    s.keytab = option(module, "keyTab");
    if (s.keytab.empty() || s.principal.empty())
      throw invalid("a Kerberos login with useKeyTab=true needs keyTab and principal");
  }
  if (!useKeyTab && !useTicketCache)
    throw invalid(
        "a Kerberos login needs useKeyTab=true (with keyTab and principal) or "
        "useTicketCache=true");
  return s;
}

}  // namespace

struct ClientExchange::Conn {
  sasl_callback_t callbacks[5];
  std::vector<unsigned char> secret;  // a sasl_secret_t: length, then the bytes
  sasl_conn_t* handle = nullptr;
  ~Conn() {
    if (handle != nullptr) sasl_dispose(&handle);
  }
};

ClientSettings clientSettingsFrom(const jaas::Configuration& config, std::string_view section) {
  auto it = config.find(section);
  if (it == config.end())
    throw Error("the JAAS configuration has no '" + std::string(section) + "' section");
  ClientSettings s;
  for (const jaas::LoginModule& module : it->second) {
    if (module.className.ends_with("Krb5LoginModule")) {
      return kerberosSettings(module, section);
    }
    if (s.username.empty()) {
      s.username = option(module, "username");
      s.password = option(module, "password");
    }
  }
  if (s.username.empty())
    throw Error("JAAS section '" + std::string(section) + "' has no username");
  return s;
}

namespace {

// As Krb5LoginModule: the ticket cache first when asked for, then the keytab.
std::shared_ptr<GssCredential> kerberosLogin(const ClientSettings& settings) {
  if (settings.ticketCache) {
    try {
      return GssCredential::fromTicketCache(settings.principal, *settings.ticketCache);
    } catch (const Error&) {
      if (settings.keytab.empty()) throw;  // no keytab to fall back to: the cache's reason
    }
  }
  return GssCredential::initiator(settings.principal, settings.keytab);
}

}  // namespace

void logIn(ClientSettings& settings) {
  // Here, at start: exchanges may then be made on another thread than the server side's.
  initLibrary();
  if (settings.mechanism != "GSSAPI") return;
  auto credential = kerberosLogin(settings);
  settings.authorizationId = credential->name();
  settings.credential = std::move(credential);
}

std::string quorumServicePrincipal(const std::string& configured, const std::string& peerHost) {
  std::size_t slash = configured.find('/');
  if (slash == std::string::npos || configured.find('/', slash + 1) != std::string::npos ||
      configured.substr(slash + 1) != "_HOST")
    return configured;
  std::string host = peerHost;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return configured.substr(0, slash + 1) + host;
}

ClientExchange::ClientExchange(ClientSettings settings)
    : settings_(std::move(settings)), conn_(std::make_unique<Conn>()) {
  initLibrary();
  // A ticket cache is read again for each exchange, so whoever renews it (k5start, kinit -R, a
  // sidecar) is seen at the next connection: a credential from start keeps its first ticket's
  // end time. A keytab login renews itself and is shared.
  if (settings_.mechanism == "GSSAPI" && settings_.ticketCache)
    settings_.credential = kerberosLogin(settings_);
  const std::string& password = settings_.password;
  conn_->secret.resize(sizeof(sasl_secret_t) + password.size());
  auto* secret = reinterpret_cast<sasl_secret_t*>(conn_->secret.data());
  secret->len = password.size();
  std::memcpy(secret->data, password.data(), password.size());
  void* self = &settings_;
  conn_->callbacks[0] = {SASL_CB_AUTHNAME, callback(&giveName), self};
  conn_->callbacks[1] = {SASL_CB_USER, callback(&giveAuthorizationId), self};
  conn_->callbacks[2] = {SASL_CB_PASS, callback(&givePassword), &conn_->secret};
  conn_->callbacks[3] = {SASL_CB_GETREALM, callback(&giveRealm), nullptr};
  conn_->callbacks[4] = {SASL_CB_LIST_END, nullptr, nullptr};
  int rc = sasl_client_new(settings_.service.c_str(), settings_.serverName.c_str(), nullptr,
                           nullptr, conn_->callbacks, 0, &conn_->handle);
  if (rc != SASL_OK)
    throw Error(std::string("sasl_client_new: ") + sasl_errstring(rc, nullptr, nullptr));
  // No security layer: ZooKeeper's quorum authenticates only (qop "auth").
  sasl_security_properties_t props{};
  props.min_ssf = 0;
  props.max_ssf = 0;
  props.maxbufsize = 0;
  sasl_setprop(conn_->handle, SASL_SEC_PROPS, &props);
  if (settings_.credential)
    sasl_setprop(conn_->handle, SASL_GSS_CREDS, settings_.credential->handle());
}

ClientExchange::~ClientExchange() = default;

namespace {
ClientExchange::Step stepFrom(sasl_conn_t* conn, int rc, const char* out, unsigned outLength) {
  if (rc != SASL_OK && rc != SASL_CONTINUE) throw Error(sasl_errdetail(conn));
  ClientExchange::Step step;
  if (out != nullptr) step.token.assign(out, outLength);
  step.complete = rc == SASL_OK;
  return step;
}
}  // namespace

ClientExchange::Step ClientExchange::start() {
  const char* out = nullptr;
  unsigned outLength = 0;
  const char* chosen = nullptr;
  int rc = sasl_client_start(conn_->handle, settings_.mechanism.c_str(), nullptr, &out, &outLength,
                             &chosen);
  return stepFrom(conn_->handle, rc, out, outLength);
}

ClientExchange::Step ClientExchange::evaluate(std::span<const std::uint8_t> token) {
  const char* out = nullptr;
  unsigned outLength = 0;
  int rc = sasl_client_step(conn_->handle, reinterpret_cast<const char*>(token.data()),
                            static_cast<unsigned>(token.size()), nullptr, &out, &outLength);
  return stepFrom(conn_->handle, rc, out, outLength);
}

}  // namespace zk::sasl
