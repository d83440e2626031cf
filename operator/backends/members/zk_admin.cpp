// The operator's ZooKeeper client: /zookeeper/config and reconfig over libzookeeper-mt.
#include "backends/members/zk_admin.h"

#include <openssl/evp.h>
#include <zookeeper/zookeeper.h>

#include <array>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

namespace zk::op::zkadmin {
namespace {

using Clock = std::chrono::steady_clock;

// The C client logs every refused connection at ERROR; the operator reports failures itself
// through the result codes, so its log lines would only repeat them on stderr.
void discardLog(const char*) {}

int parseId(std::string_view text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != text.npos) {
    throw std::invalid_argument("not a server id: " + std::string(text));
  }
  return std::stoi(std::string(text));
}

}  // namespace

EnsembleView EnsembleConfig::view() const {
  EnsembleView v;
  for (const auto& [id, spec] : servers) {
    // "host:quorum:election[:role];client": the role is optional and defaults to participant.
    std::string_view addresses = std::string_view(spec).substr(0, spec.find(';'));
    bool observer = addresses.ends_with(":observer");
    (observer ? v.observers : v.voters).insert(id);
  }
  return v;
}

EnsembleConfig parseEnsembleConfig(std::string_view text) {
  EnsembleConfig c;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == text.npos ? std::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == line.npos) throw std::invalid_argument("no '=' in: " + std::string(line));
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "version") {
      try {
        c.version = std::stoll(std::string(value), nullptr, 16);
      } catch (const std::exception&) {
        throw std::invalid_argument("not a hex version: " + std::string(value));
      }
    } else if (key.starts_with("server.")) {
      c.servers[parseId(key.substr(7))] = std::string(value);
    }
  }
  return c;
}

std::string newSuperPassword() {
  std::array<unsigned char, 24> random{};
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(random.data()), random.size())) {
    throw std::runtime_error("cannot read /dev/urandom for the super user's password");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : random) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string superDigest(std::string_view user, std::string_view password) {
  std::string input = std::string(user) + ":" + std::string(password);
  std::array<unsigned char, EVP_MAX_MD_SIZE> sha{};
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), sha.data(), &len, EVP_sha1(), nullptr);
  std::array<unsigned char, 4 * EVP_MAX_MD_SIZE / 3 + 4> b64{};
  int n = EVP_EncodeBlock(b64.data(), sha.data(), static_cast<int>(len));
  return std::string(user) + ":" + std::string(reinterpret_cast<const char*>(b64.data()), n);
}

std::string errorName(int rc) {
  switch (rc) {
    case ZOK:
      return "ZOK";
    case ZSYSTEMERROR:
      return "ZSYSTEMERROR";
    case ZRUNTIMEINCONSISTENCY:
      return "ZRUNTIMEINCONSISTENCY";
    case ZDATAINCONSISTENCY:
      return "ZDATAINCONSISTENCY";
    case ZCONNECTIONLOSS:
      return "ZCONNECTIONLOSS";
    case ZMARSHALLINGERROR:
      return "ZMARSHALLINGERROR";
    case ZUNIMPLEMENTED:
      return "ZUNIMPLEMENTED";
    case ZOPERATIONTIMEOUT:
      return "ZOPERATIONTIMEOUT";
    case ZBADARGUMENTS:
      return "ZBADARGUMENTS";
    case ZINVALIDSTATE:
      return "ZINVALIDSTATE";
    case ZNEWCONFIGNOQUORUM:
      return "ZNEWCONFIGNOQUORUM";
    case ZRECONFIGINPROGRESS:
      return "ZRECONFIGINPROGRESS";
    case ZNONODE:
      return "ZNONODE";
    case ZNOAUTH:
      return "ZNOAUTH";
    case ZBADVERSION:
      return "ZBADVERSION";
    case ZSESSIONEXPIRED:
      return "ZSESSIONEXPIRED";
    case ZAUTHFAILED:
      return "ZAUTHFAILED";
    case ZCLOSING:
      return "ZCLOSING";
    case ZRECONFIGDISABLED:
      return "ZRECONFIGDISABLED";
    default:
      return "Z" + std::to_string(rc);
  }
}

namespace {

AdminError failure(int rc, const std::string& doing) {
  return AdminError(rc, errorName(rc) + " (" + zerror(rc) + ") " + doing);
}

}  // namespace

// The handle and what its callbacks report. Callbacks run on the client's completion thread;
// everything they touch is guarded by `mutex`.
struct ZkAdmin::Session {
  // One asynchronous call's answer, owned by the waiting caller. A caller that gives up closes
  // the handle first, which answers every pending call (ZCLOSING) before it returns.
  struct Call {
    explicit Call(Session* s) : session(s) {}
    Session* session;
    bool done = false;
    int rc = 0;
    std::string value;
  };

  std::mutex mutex;
  std::condition_variable changed;
  zhandle_t* handle = nullptr;

  static void watcher(zhandle_t*, int, int, const char*, void* context) {
    auto* self = static_cast<Session*>(context);
    std::lock_guard lock(self->mutex);
    self->changed.notify_all();
  }
  static void finish(Call* call, int rc, const char* value, int len) {
    std::lock_guard lock(call->session->mutex);
    call->done = true;
    call->rc = rc;
    if (value && len > 0) call->value.assign(value, static_cast<size_t>(len));
    call->session->changed.notify_all();
  }
  static void voidDone(int rc, const void* data) {
    finish(static_cast<Call*>(const_cast<void*>(data)), rc, nullptr, 0);
  }
  static void dataDone(int rc, const char* value, int len, const Stat*, const void* data) {
    finish(static_cast<Call*>(const_cast<void*>(data)), rc, value, len);
  }

  // Waits for the call's answer until `deadline`; false if none came.
  bool wait(Call& call, Clock::time_point deadline) {
    std::unique_lock lock(mutex);
    return changed.wait_until(lock, deadline, [&] { return call.done; });
  }

  ~Session() {
    if (handle) zookeeper_close(handle);
  }
};

ZkAdmin::ZkAdmin(std::string connect, std::string user, std::string password,
                 std::chrono::milliseconds timeout)
    : connect_(std::move(connect)),
      user_(std::move(user)),
      password_(std::move(password)),
      timeout_(timeout) {}

ZkAdmin::~ZkAdmin() = default;

void ZkAdmin::drop() {
  session_.reset();
}

ZkAdmin::Session& ZkAdmin::session() {
  if (session_) {
    int state = zoo_state(session_->handle);
    if (state == ZOO_CONNECTED_STATE || state == ZOO_CONNECTING_STATE ||
        state == ZOO_ASSOCIATING_STATE) {
      return *session_;  // the client reconnects on its own while its session lives
    }
    drop();
  }
  auto s = std::make_unique<Session>();
  auto deadline = Clock::now() + timeout_;
  // The session may outlive a member's restart: ask for the longest timeout a member grants.
  s->handle =
      zookeeper_init2(connect_.c_str(), &Session::watcher, 30000, nullptr, s.get(), 0, &discardLog);
  if (!s->handle) throw AdminError(ZSYSTEMERROR, "cannot create a client for " + connect_);
  {
    std::unique_lock lock(s->mutex);
    if (!s->changed.wait_until(lock, deadline,
                               [&] { return zoo_state(s->handle) == ZOO_CONNECTED_STATE; })) {
      throw AdminError(ZCONNECTIONLOSS, "ZCONNECTIONLOSS: no member of " + connect_ +
                                            " accepted a session within " +
                                            std::to_string(timeout_.count()) + " ms");
    }
  }
  Session::Call auth(s.get());
  int rc = zoo_add_auth(s->handle, "digest", (user_ + ":" + password_).c_str(),
                        static_cast<int>(user_.size() + 1 + password_.size()), &Session::voidDone,
                        &auth);
  if (rc != ZOK) throw failure(rc, "adding the " + user_ + " credentials");
  if (!s->wait(auth, deadline)) {
    s.reset();  // answers `auth` with ZCLOSING before it goes
    throw AdminError(ZOPERATIONTIMEOUT, "ZOPERATIONTIMEOUT: authentication got no answer");
  }
  if (auth.rc != ZOK) throw failure(auth.rc, "authenticating as " + user_);
  session_ = std::move(s);
  return *session_;
}

EnsembleConfig ZkAdmin::readConfig() {
  Session& s = session();
  Session::Call call(&s);
  int rc = zoo_aget(s.handle, ZOO_CONFIG_NODE, 0, &Session::dataDone, &call);
  if (rc != ZOK) {
    drop();
    throw failure(rc, "reading " ZOO_CONFIG_NODE);
  }
  if (!s.wait(call, Clock::now() + timeout_)) {
    drop();  // answers `call` with ZCLOSING before it goes
    throw failure(ZOPERATIONTIMEOUT, "reading " ZOO_CONFIG_NODE " from " + connect_);
  }
  if (call.rc != ZOK) throw failure(call.rc, "reading " ZOO_CONFIG_NODE);
  try {
    return parseEnsembleConfig(call.value);
  } catch (const std::invalid_argument& e) {
    throw AdminError(ZMARSHALLINGERROR, ZOO_CONFIG_NODE " is unreadable: " + std::string(e.what()));
  }
}

EnsembleConfig ZkAdmin::reconfig(const std::string& joining, const std::string& leaving) {
  Session& s = session();
  Session::Call call(&s);
  int rc = zoo_areconfig(s.handle, joining.empty() ? nullptr : joining.c_str(),
                         leaving.empty() ? nullptr : leaving.c_str(), nullptr, -1,
                         &Session::dataDone, &call);
  std::string what = "reconfig" + (joining.empty() ? "" : " add " + joining) +
                     (leaving.empty() ? "" : " remove " + leaving);
  if (rc != ZOK) {
    drop();
    throw failure(rc, what);
  }
  if (!s.wait(call, Clock::now() + timeout_)) {
    drop();
    throw failure(ZOPERATIONTIMEOUT, what + ": no answer (it may still commit)");
  }
  if (call.rc != ZOK) throw failure(call.rc, what);
  try {
    return parseEnsembleConfig(call.value);
  } catch (const std::invalid_argument& e) {
    throw AdminError(ZMARSHALLINGERROR,
                     "reconfig answered an unreadable configuration: " + std::string(e.what()));
  }
}

}  // namespace zk::op::zkadmin
