#include "sasl/sasl_server.h"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <vector>

#include "jute/reader.h"
#include "sasl/gss_credential.h"

namespace zk::sasl {
namespace {

constexpr const char* kPluginName = "zookube-jaas";
// A private option name: the getopt callback answers "<prefix><user>" with that JAAS user's
// password. Plugins reach the connection's getopt callback (not the application's objects),
// so this is how the password lookup below finds the users without process-wide state.
constexpr std::string_view kPasswordOption = "zookube_jaas_password:";

int answer(const std::string& value, const char** result, unsigned* length) {
  *result = value.c_str();
  if (length != nullptr) *length = static_cast<unsigned>(value.size());
  return SASL_OK;
}

// The connection's getopt callback; its context is the connection's Settings.
int getOption(void* context, const char* /*plugin*/, const char* option, const char** result,
              unsigned* length) {
  static const std::string plugin = kPluginName;
  std::string_view name = option;
  if (name == "auxprop_plugin") return answer(plugin, result, length);
  if (!name.starts_with(kPasswordOption) || context == nullptr) return SASL_FAIL;
  const auto& users = static_cast<const Settings*>(context)->users;
  auto it = users.find(name.substr(kPasswordOption.size()));
  return it == users.end() ? SASL_FAIL : answer(it->second, result, length);
}

// As ZooKeeper's AuthorizeCallback handler: any requested authorization id is allowed, since the
// session's id comes from the authenticated identity alone (see Exchange::evaluate).
int authorizeAny(sasl_conn_t*, void*, const char*, unsigned, const char*, unsigned, const char*,
                 unsigned, propctx*) {
  return SASL_OK;
}

template <typename Function>
sasl_callback_ft callback(Function* function) {
  return reinterpret_cast<sasl_callback_ft>(reinterpret_cast<void (*)()>(function));
}

std::optional<std::string_view> passwordOf(const sasl_utils_t* utils, std::string_view user) {
  sasl_callback_ft proc = nullptr;
  void* context = nullptr;
  if (utils->getcallback(utils->conn, SASL_CB_GETOPT, &proc, &context) != SASL_OK || !proc)
    return std::nullopt;
  auto getopt = reinterpret_cast<sasl_getopt_t*>(reinterpret_cast<void (*)()>(proc));
  // The library may qualify the name with the realm ("bob@zk-sasl-md5").
  for (std::string_view name : {user, user.substr(0, user.rfind('@'))}) {
    std::string key = std::string(kPasswordOption) + std::string(name);
    const char* value = nullptr;
    unsigned length = 0;
    if (getopt(context, kPluginName, key.c_str(), &value, &length) == SASL_OK && value != nullptr)
      return std::string_view(value, length);
  }
  return std::nullopt;
}

// An auxprop plugin: it answers the userPassword property DIGEST-MD5 asks for from the JAAS
// users, the way Cyrus lets an application supply secrets without a sasldb file.
int lookupPassword(void* /*glob*/, sasl_server_params_t* params, unsigned flags, const char* user,
                   unsigned userLength) {
  if ((flags & SASL_AUXPROP_AUTHZID) != 0) return SASL_OK;  // only the authentication id's
  auto password = passwordOf(params->utils, std::string_view(user, userLength));
  if (!password) return SASL_NOUSER;
  const propval* wanted = params->utils->prop_get(params->propctx);
  for (const propval* p = wanted; p != nullptr && p->name != nullptr; ++p) {
    if (std::string_view(p->name) != SASL_AUX_PASSWORD) continue;
    if (p->values != nullptr) {
      if ((flags & SASL_AUXPROP_OVERRIDE) == 0) continue;
      params->utils->prop_erase(params->propctx, p->name);
    }
    params->utils->prop_set(params->propctx, p->name, password->data(),
                            static_cast<int>(password->size()));
  }
  return SASL_OK;
}

int initPlugin(const sasl_utils_t* /*utils*/, int maxVersion, int* outVersion,
               sasl_auxprop_plug_t** plug, const char* /*name*/) {
  if (maxVersion < SASL_AUXPROP_PLUG_VERSION) return SASL_BADVERS;
  // The library keeps the pointer for the life of the process; nothing in it ever changes.
  static sasl_auxprop_plug_t plugin{
      0, 0, nullptr, nullptr, &lookupPassword, const_cast<char*>(kPluginName), nullptr};
  *outVersion = SASL_AUXPROP_PLUG_VERSION;
  *plug = &plugin;
  return SASL_OK;
}

// Cyrus keeps its plugin tables per process: initialised once, whatever the server count.
void initLibrary() {
  static std::once_flag once;
  static int result = SASL_OK;
  std::call_once(once, [] {
    result = sasl_server_init(nullptr, "zookube");
    if (result == SASL_OK) result = sasl_auxprop_add_plugin(kPluginName, &initPlugin);
  });
  if (result != SASL_OK)
    throw Error(std::string("cannot initialise Cyrus SASL: ") +
                sasl_errstring(result, nullptr, nullptr));
}

std::string option(const jaas::LoginModule& module, std::string_view key) {
  auto it = module.options.find(key);
  return it == module.options.end() ? std::string() : it->second;
}

// "service/host@REALM", as ZooKeeper splits the server's principal.
void applyPrincipal(Settings& s, const std::string& principal) {
  std::size_t slash = principal.find('/');
  std::size_t at = principal.find('@', slash == std::string::npos ? 0 : slash);
  if (slash == std::string::npos || slash == 0)
    throw Error("JAAS principal '" + principal + "' is not service/host@REALM");
  s.mechanism = "GSSAPI";
  s.service = principal.substr(0, slash);
  s.serverName = principal.substr(slash + 1, at == std::string::npos ? at : at - slash - 1);
  s.realm = at == std::string::npos ? std::string() : principal.substr(at + 1);
}

// The names of a DIGEST-MD5 response's directives (key=value or key="quoted", comma separated),
// lowercased; scanning stops at the first thing that is not a directive, which the library
// then refuses on its own.
std::vector<std::string> directiveNames(std::string_view text) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  auto skip = [&](std::string_view set) {
    while (pos < text.size() && set.find(text[pos]) != std::string_view::npos) ++pos;
  };
  while (true) {
    skip(" \t\r\n,");
    std::size_t eq = text.find('=', pos);
    if (pos >= text.size() || eq == std::string_view::npos) return names;
    std::string name(text.substr(pos, eq - pos));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(std::move(name));
    pos = eq + 1;
    skip(" \t");
    if (pos < text.size() && text[pos] == '"') {
      for (++pos; pos < text.size() && text[pos] != '"'; ++pos) pos += text[pos] == '\\';
      ++pos;
    } else {
      while (pos < text.size() && text[pos] != ',') ++pos;
    }
  }
}

// RFC 2831 allows each directive of a response once (Java's DIGEST-MD5 server refuses a
// repeat too). Checked here because Cyrus's DIGEST-MD5 plugin leaks the first copy of some
// repeated directives, which a client could otherwise do on every connection.
void refuseRepeatedDirectives(std::span<const std::uint8_t> token) {
  auto names =
      directiveNames(std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
  std::sort(names.begin(), names.end());
  auto repeated = std::adjacent_find(names.begin(), names.end());
  if (repeated != names.end())
    throw Error("DIGEST-MD5: the client sent more than one " + *repeated + " directive");
}

}  // namespace

Settings settingsFrom(const jaas::Configuration& config, std::string_view section) {
  auto it = config.find(section);
  if (it == config.end())
    throw Error("the JAAS configuration has no '" + std::string(section) + "' section");
  Settings s;
  for (const jaas::LoginModule& module : it->second) {
    for (const auto& [key, value] : module.options) {
      if (key.starts_with("user_")) s.users[key.substr(5)] = value;
    }
    if (module.className.ends_with("Krb5LoginModule")) {
      std::string principal = option(module, "principal");
      if (!principal.empty()) applyPrincipal(s, principal);
      s.keytab = option(module, "keyTab");
    }
  }
  // As ZooKeeper: without a principal it is DIGEST-MD5, even with no users (then nobody can
  // authenticate).
  if (s.mechanism.empty()) s.mechanism = "DIGEST-MD5";
  return s;
}

std::string authorizedId(std::string_view principal, bool removeHost, bool removeRealm) {
  std::size_t at = principal.find('@');
  std::string_view realm = at == std::string_view::npos ? "" : principal.substr(at + 1);
  std::string_view rest = principal.substr(0, at);
  std::size_t slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  if (slash != std::string_view::npos && !removeHost)
    id += "/" + std::string(rest.substr(slash + 1));
  if (at != std::string_view::npos && !removeRealm) id += "@" + std::string(realm);
  return id;
}

std::string tokenOf(std::span<const std::uint8_t> getSaslRequest) {
  jute::Reader in(getSaslRequest);
  return in.readNullableBuffer("token").value_or(std::string());
}

Authority::Authority(Settings settings) : settings_(std::move(settings)) {
  initLibrary();
  // The section's own keytab, not KRB5_KTNAME: the client port and the quorum may use two.
  if (settings_.mechanism == "GSSAPI" && !settings_.keytab.empty())
    acceptor_ = GssCredential::acceptor(settings_.service, settings_.serverName, settings_.keytab);
}

std::unique_ptr<Exchange> Authority::begin() const {
  return std::make_unique<Exchange>(settings_, acceptor_.get());
}

struct Exchange::Conn {
  sasl_callback_t callbacks[3];
  sasl_conn_t* handle = nullptr;
  ~Conn() {
    if (handle != nullptr) sasl_dispose(&handle);
  }
};

Exchange::Exchange(const Settings& settings, const GssCredential* acceptor)
    : settings_(settings), conn_(std::make_unique<Conn>()) {
  conn_->callbacks[0] = {SASL_CB_GETOPT, callback(&getOption), const_cast<Settings*>(&settings_)};
  conn_->callbacks[1] = {SASL_CB_PROXY_POLICY, callback(&authorizeAny), nullptr};
  conn_->callbacks[2] = {SASL_CB_LIST_END, nullptr, nullptr};
  int rc = sasl_server_new(settings_.service.c_str(), settings_.serverName.c_str(), nullptr,
                           nullptr, nullptr, conn_->callbacks, SASL_SUCCESS_DATA, &conn_->handle);
  if (rc != SASL_OK)
    throw Error(std::string("sasl_server_new: ") + sasl_errstring(rc, nullptr, nullptr));
  // No security layer: ZooKeeper's client port authenticates only (qop "auth").
  sasl_security_properties_t props{};
  props.min_ssf = 0;
  props.max_ssf = 0;
  props.maxbufsize = 0;
  sasl_setprop(conn_->handle, SASL_SEC_PROPS, &props);
  if (acceptor != nullptr) sasl_setprop(conn_->handle, SASL_GSS_CREDS, acceptor->handle());
}

Exchange::~Exchange() = default;

// A name as ZooKeeper sees it: Cyrus drops the default realm from a Kerberos name (ZooKeeper
// keeps it) and may qualify a DIGEST-MD5 user with its realm (ZooKeeper does not).
std::string Exchange::qualified(std::string name) const {
  if (settings_.mechanism == "DIGEST-MD5") return name.substr(0, name.find('@'));
  if (name.find('@') == std::string::npos && !settings_.realm.empty())
    name += "@" + settings_.realm;
  return name;
}

std::string Exchange::authenticatedPrincipal() const {
  const void* name = nullptr;
  if (sasl_getprop(conn_->handle, SASL_AUTHUSER, &name) != SASL_OK || name == nullptr)
    throw Error("authenticated, but the library names no user");
  return qualified(static_cast<const char*>(name));
}

void Exchange::authorizeAsQuorumMember(const std::string& principal) const {
  const void* requested = nullptr;
  std::string authorization = principal;
  if (sasl_getprop(conn_->handle, SASL_USERNAME, &requested) == SASL_OK && requested != nullptr)
    authorization = qualified(static_cast<const char*>(requested));
  if (authorization != principal)
    throw Error(principal + " asked to act as " + authorization + ": not authorized");
  // As ZooKeeper: only a name of three parts (name/host@REALM) has a host to check.
  std::vector<std::string> parts(1);
  for (char c : principal) {
    if (c == '/' || c == '@')
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (parts.size() != 3) return;
  const std::string& host = parts[1];
  if (!settings_.memberHosts.contains(host))
    throw Error(principal + " is not authorized to connect: " + host +
                " is not the host of a member");
}

Exchange::Step Exchange::evaluate(std::span<const std::uint8_t> token) {
  const char* in = token.empty() ? nullptr : reinterpret_cast<const char*>(token.data());
  auto length = static_cast<unsigned>(token.size());
  if (started_ && settings_.mechanism == "DIGEST-MD5") refuseRepeatedDirectives(token);
  const char* out = nullptr;
  unsigned outLength = 0;
  int rc = started_ ? sasl_server_step(conn_->handle, in, length, &out, &outLength)
                    : sasl_server_start(conn_->handle, settings_.mechanism.c_str(), in, length,
                                        &out, &outLength);
  started_ = true;
  if (rc != SASL_OK && rc != SASL_CONTINUE) throw Error(sasl_errdetail(conn_->handle));
  Step step;
  if (out != nullptr) step.token.assign(out, outLength);
  if (rc == SASL_CONTINUE) return step;
  std::string principal = authenticatedPrincipal();
  if (settings_.authorizeAsQuorumMember) authorizeAsQuorumMember(principal);
  step.complete = true;
  step.authorizedId = authorizedId(principal, settings_.removeHostFromPrincipal,
                                   settings_.removeRealmFromPrincipal);
  return step;
}

}  // namespace zk::sasl
