// The local backend: member files, processes, observation and the plan's actions.
#include "backends/local/local_backend.h"

#include <cpprest/json.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "backends/local/local_tls.h"
#include "backends/local/process.h"
#include "backends/local/srvr_probe.h"
#include "backends/members/secret_refs.h"
#include "render/tls_cleanup.h"

namespace zk::op::local {
namespace {

using web::json::value;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A member that exits right after its start (port taken, bad data) is not started again sooner.
constexpr auto kRestartBackoff = std::chrono::seconds(2);

std::optional<ProcessRecord> readRecord(const fs::path& file) {
  std::string body = readFile(file);
  if (body.empty()) return std::nullopt;
  try {
    value v = value::parse(body);
    ProcessRecord r;
    r.pid = v.at("pid").as_integer();
    r.settings = v.at("settings").as_string();
    r.image = v.at("image").as_string();
    r.started = v.at("started").as_string();
    if (v.has_string_field("access")) r.access = v.at("access").as_string();
    return r;
  } catch (const std::exception&) {
    return std::nullopt;  // unknown hash: the planner sees a stale member and rolls it once
  }
}

void writeRecord(const fs::path& file, const ProcessRecord& r) {
  value v = value::object();
  v["pid"] = value::number(r.pid);
  v["settings"] = value::string(r.settings);
  v["image"] = value::string(r.image);
  v["started"] = value::string(r.started);
  v["access"] = value::string(r.access);
  writeFileAtomically(file, v.serialize() + "\n");
}

std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string roleOf(const ObservedMember* m) {
  if (!m || !m->running) return "down";
  if (!m->ready) return "not serving";
  return std::string(roleName(m->role));
}

std::string describeRestart(const RestartMember& r) {
  return r.reason.starts_with("rolling to") ? "restarting for config change (" + r.reason + ")"
                                            : "restarting (" + r.reason + ")";
}

std::string shortSha256(const std::string& text) {
  return sha256Hex(text, 8);
}

// The super user's password: made once, kept beside the data it protects, readable by its owner
// only. Written before any member is configured with its digest.
std::string loadOrCreateSecret(const fs::path& file) {
  std::string secret = readFile(file);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (!secret.empty()) return secret;
  secret = zkadmin::newSuperPassword();
  fs::path tmp = file;
  tmp += ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    std::string line = secret + "\n";
    if (!fd || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        ::fsync(fd.get()) != 0) {
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write);
  fs::rename(tmp, file);
  return secret;
}

}  // namespace

LocalBackend::LocalBackend(LocalOptions options, ProgressLog log)
    : options_(std::move(options)), log_(std::move(log)) {
  options_.stateDir = fs::absolute(options_.stateDir).lexically_normal();
  fs::create_directories(options_.stateDir / "members");
  fs::path lockFile = options_.stateDir / "operator.lock";
  lock_ = UniqueFd(::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_ || ::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    throw std::runtime_error("another zookube-operator is using " + options_.stateDir.string() +
                             " (" + lockFile.string() + " is locked)");
  }
  addressing_ = Addressing::local((options_.stateDir / "members").string());
  statusFile_ = options_.stateDir / "status.json";
  state_ = loadState(statusFile_);
  superPassword_ = loadOrCreateSecret(options_.stateDir / "super.secret");
  // Every listener on loopback (the render leaves the metrics host to the backend), and the super
  // user the operator reconfigures as.
  localSettings_ = "metricsProvider.httpHost=" + addressing_.localHost +
                   "\nDigestAuthenticationProvider.superDigest=" +
                   zkadmin::superDigest("super", superPassword_) + "\n";
}

void LocalBackend::saveState() {
  if (state_.history.size() > 200) {
    state_.history.erase(state_.history.begin(), state_.history.end() - 200);
  }
  local::saveState(statusFile_, state_);
}

fs::path LocalBackend::memberDir(const Member& m) const {
  return options_.stateDir / "members" / m.name;
}

fs::path LocalBackend::configPath(const Member& m) const {
  return memberDir(m) / "zoo.cfg";
}

SecretReader LocalBackend::secretFiles(bool text) const {
  // The files as a Secret volume lays them out, each written by the user; a text value loses
  // the one trailing newline an editor adds, a keytab is kept byte for byte.
  return [this, text](const SecretKeyRef& ref) {
    fs::path folder = options_.stateDir / "secrets" / ref.name;
    std::string value = readFile(folder / ref.key);
    if (text && value.ends_with('\n')) value.pop_back();
    return SecretRead{ref.name, fs::is_directory(folder), value,
                      "local mode reads " + (folder / ref.key).string()};
  };
}

ConfigMapReader LocalBackend::configMapFiles() const {
  return [this](const SecretKeyRef& ref) {
    fs::path folder = options_.stateDir / "configmaps" / ref.name;
    return SecretRead{ref.name, fs::is_directory(folder), readFile(folder / ref.key),
                      "local mode reads " + (folder / ref.key).string()};
  };
}

std::string LocalBackend::localKrb5Config(const ZkCluster& c) const {
  return kerberosKrb5Config(c, configMapFiles());
}

std::string LocalBackend::localJaas(const ZkCluster& c) const {
  // Without passwordSecretRef the quorum's password is one made up once, beside the super user's.
  return saslJaasFromSecrets(c, superPassword_, secretFiles(true)) +
         quorumDigestJaas(c, secretFiles(true), [this] {
           return loadOrCreateSecret(options_.stateDir / "quorum.secret");
         });
}

std::string LocalBackend::localKeytab(const ZkCluster& c) const {
  return kerberosKeytabFromSecrets(c, secretFiles(false));
}

std::optional<Blocker> LocalBackend::secretBlocker(const ZkCluster& c) const {
  try {
    localJaas(c);
    localKeytab(c);
    localKrb5Config(c);
  } catch (const Blocked& e) {
    return e.blocker();
  }
  return std::nullopt;
}

std::string LocalBackend::targetHash(const ZkCluster& c) const {
  // A changed password, keytab or krb5.conf rolls the members, each of which reads its JAAS
  // file (and logs in with the keytab) only at start. A missing file is reported by observe (the
  // plan then only reports).
  std::string fingerprint;
  try {
    fingerprint = memberSecretsFingerprint("", localJaas(c), localKeytab(c), localKrb5Config(c));
  } catch (const Blocked& e) {
    fingerprint = memberSecretsFingerprint("", e.what());
  }
  return rolloutHash(c, addressing_, fingerprint) + "-" + shortSha256(localSettings_);
}

std::vector<Member> LocalBackend::membersOnDisk(const ZkCluster& c) const {
  std::vector<Member> out;
  std::error_code ec;
  std::string voterPrefix = c.meta.name + "-", observerPrefix = c.meta.name + "-observer-";
  auto ordinal = [](std::string_view rest) -> int {
    if (rest.empty() || rest.size() > 3 || rest.find_first_not_of("0123456789") != rest.npos) {
      return -1;
    }
    return std::stoi(std::string(rest));
  };
  for (const auto& e : fs::directory_iterator(options_.stateDir / "members", ec)) {
    std::string name = e.path().filename();
    if (name.starts_with(observerPrefix)) {
      int n = ordinal(std::string_view(name).substr(observerPrefix.size()));
      if (n >= 0) out.push_back(observerMember(c, n));
    } else if (name.starts_with(voterPrefix)) {
      int n = ordinal(std::string_view(name).substr(voterPrefix.size()));
      if (n >= 0 && n < kMaxVoters) out.push_back(voterMember(c, n));
    }
  }
  std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
  return out;
}

// A member that ended on its own (crashed, killed, refused its config) is collected here, on the
// next pass, and its end is said once: the plan then starts it again.
void LocalBackend::reapExitedChildren() {
  for (auto it = children_.begin(); it != children_.end();) {
    ChildState child = pollChild(it->first);
    if (child.kind == ChildState::Kind::Running) {
      ++it;
      continue;
    }
    if (child.kind == ChildState::Kind::Ended) {
      log_("member " + it->second + ": exited (pid " + std::to_string(it->first) + ", " +
           describeWaitStatus(child.status) + ")");
    }
    it = children_.erase(it);
  }
}

// Stops a member process, and forgets it as our child once it has been waited for.
StopOutcome LocalBackend::stopPid(pid_t pid) {
  StopOutcome outcome = stopProcess(pid, options_.stopGrace);
  if (outcome.status || !processAlive(pid)) children_.erase(pid);
  return outcome;
}

Observed LocalBackend::observe(const ZkCluster& c) {
  reapExitedChildren();
  auto processes = findServerProcesses(fs::path(options_.serverBinary).filename());
  std::optional<BootClock> bootClock = readBootClock();
  std::string target = targetHash(c);
  Observed o;
  pids_.clear();
  std::optional<Blocker> caBlocker;
  if (c.spec.tls.enabled() && localTlsProblem(c).empty()) {
    try {
      refreshCa(c);
    } catch (const Blocked& e) {
      caBlocker = e.blocker();  // the user's CA (caSecretRef) is missing or cannot issue
    }
  }
  std::vector<ProbeTarget> probes;
  std::vector<size_t> probed;
  for (const Member& m : membersOnDisk(c)) {
    ObservedMember om;
    om.member = m;
    om.exists = fs::exists(configPath(m));
    auto proc = processes.find(configPath(m).string());
    om.running = proc != processes.end();
    auto rec = readRecord(memberDir(m) / "process.json");
    if (om.running) {
      pids_[m.name] = proc->second.pid;
      if (bootClock) om.upSeconds = upSeconds(proc->second.startTicks, *bootClock);
    }
    // A record of another process (or none) leaves the hash unknown, which rolls the member once.
    bool ours = rec && (!om.running || rec->pid == 0 || rec->pid == proc->second.pid);
    if (ours) {
      om.image = rec->image;
      om.rolloutHash = rec->settings;
    }
    access_[m.name] = recordedOrSpec(ours ? rec->access : "", c);
    if (om.running) {
      // Renewal and the CA's rotation rewrite the files only; the member picks them up on its
      // next handshake.
      writeMemberTls(c, m);
      auto [host, port] = operatorAddress(c, m);
      probes.push_back({host, port});
      probed.push_back(o.members.size());
    }
    o.members.push_back(std::move(om));
  }
  auto answers = probeSrvr(probes, options_.probeTimeout);
  for (size_t i = 0; i < answers.size(); ++i) {
    ObservedMember& om = o.members[probed[i]];
    if (!answers[i]) continue;
    om.ready = true;
    om.role = answers[i]->role;
    om.zxid = answers[i]->zxid;
  }
  o.ensemble = readMembership(c, o);
  if (auto missing = secretBlocker(c)) o.blockers.push_back(*missing);
  if (caBlocker) o.blockers.push_back(*caBlocker);
  o.tls = tlsObservation(c);
  observed_ = o;
  return o;
}

const CaBundle& LocalBackend::refreshCa(const ZkCluster& c) {
  std::int64_t now = unixSeconds();
  std::optional<UserCa> user;
  if (c.spec.tls.caSecretName) user = userCaFromSecret(c, secretFiles(true), now);
  CaRotationStep step = ensureLocalCa(c, options_.stateDir / "tls", user, now);
  if (!step.reason.empty()) reportEvent({false, step.reason, step.message});
  ca_ = std::move(step.bundle);
  return *ca_;
}

void LocalBackend::writeMemberTls(const ZkCluster& c, const Member& m) {
  if (!c.spec.tls.enabled()) return;
  if (std::string problem = localTlsProblem(c); !problem.empty()) {
    throw std::runtime_error(problem);  // before a CA is made for nothing
  }
  ensureLocalTls(c, m, ca_ ? *ca_ : refreshCa(c), tlsDirOf(c, m, addressing_), unixSeconds());
}

const ObservedMember* LocalBackend::lastSeen(const std::string& name) const {
  for (const ObservedMember& m : observed_.members) {
    if (m.member.name == name) return &m;
  }
  return nullptr;
}

void LocalBackend::writeMemberFiles(const ZkCluster& c, const Member& m) {
  fs::path dataDir = dataDirOf(c, m, addressing_);
  fs::create_directories(dataDir);
  std::string cfg = (config_ ? renderZooCfg(c, m, {}, addressing_) + serverLines(c, m)
                             : renderZooCfg(c, m, membership_, addressing_)) +
                    localSettings_;
  if (readFile(configPath(m)) != cfg) writeFileAtomically(configPath(m), cfg);
  constexpr auto kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;
  if (std::string jaas = localJaas(c); !jaas.empty()) {
    writeFileAtomically(jaasFileOf(c, m, addressing_), jaas, kOwnerOnly);
  }
  if (c.spec.auth.kerberos) {
    // The member's own copy of the keytab beside its JAAS file, which names it and the
    // member's principal.
    writeFileAtomically(keytabFileOf(c, m, addressing_), localKeytab(c), kOwnerOnly);
    writeFileAtomically(jaasFileOf(c, m, addressing_), renderKerberosJaas(c, m, addressing_),
                        kOwnerOnly);
    // And of the krb5.conf its KRB5_CONFIG names (start), as the pod's mount is.
    if (std::string path = krb5ConfigFileOf(c, m, addressing_); !path.empty()) {
      writeFileAtomically(path, localKrb5Config(c));
    }
  }
  writeMemberTls(c, m);
  std::string myid = renderMyid(m);
  if (readFile(dataDir / "myid") != myid) writeFileAtomically(dataDir / "myid", myid);
}

void LocalBackend::start(const ZkCluster& c, const Member& m, const std::string& why) {
  fs::path recordFile = memberDir(m) / "process.json";
  // The ensemble as last applied plus the member itself: a new member follows without a vote
  // until a reconfig adds it; one that restarts takes the membership from its data.
  writeMemberFiles(c, m);
  ProcessRecord rec{0, targetHash(c), c.spec.image, nowRfc3339(),
                    formatClientAccess(clientAccessOf(c))};
  access_[m.name] = clientAccessOf(c);
  // Recorded before the fork: if the operator dies between fork and the pid's record, the next
  // run still knows which rendering the orphan runs and does not restart it a second time.
  writeRecord(recordFile, rec);
  std::map<std::string, std::string> env;
  if (c.spec.auth.kerberos && c.spec.auth.kerberos->krb5ConfigRef) {
    env["KRB5_CONFIG"] = krb5ConfigFileOf(c, m, addressing_);
  }
  rec.pid = spawnServer(options_.serverBinary, configPath(m).string(),
                        (memberDir(m) / "server.log").string(), env);
  children_[rec.pid] = m.name;
  writeRecord(recordFile, rec);
  std::ofstream(memberDir(m) / "starts.log", std::ios::app)
      << rec.started << " pid=" << rec.pid << " settings=" << rec.settings << " why=" << why
      << "\n";
  pids_[m.name] = rec.pid;
  startedThisPass_.insert(m.name);
  lastStart_[m.name] = Clock::now();
  log_("member " + m.name + ": started (pid " + std::to_string(rec.pid) + ", client port " +
       std::to_string(endpointOf(c, m, addressing_).ports.client) + "): " + why);
}

void LocalBackend::stop(const Member& m, const std::string& why) {
  auto it = pids_.find(m.name);
  if (it == pids_.end()) return;
  auto begin = Clock::now();
  StopOutcome outcome = stopPid(it->second);
  log_("member " + m.name + ": stopped (pid " + std::to_string(it->second) + ", " +
       (outcome.status ? describeWaitStatus(*outcome.status) + ", " : std::string()) +
       (outcome.clean ? "" : "killed after the grace period, ") + seconds(Clock::now() - begin) +
       "): " + why);
  pids_.erase(it);
}

void LocalBackend::applyObjects(const ZkCluster& c, Membership membership) {
  membership_ = membership;
  std::vector<Member> wanted = members(c, membership);
  for (const Member& m : wanted) {
    if (pids_.contains(m.name)) continue;
    bool fresh = !fs::exists(configPath(m));
    auto last = lastStart_.find(m.name);
    if (last != lastStart_.end() && Clock::now() - last->second < kRestartBackoff) {
      waits_.insert(m.name + " exited right after its start; see " +
                    (memberDir(m) / "server.log").string());
      continue;
    }
    start(c, m, fresh ? "new member" : "was not running");
    if (!fresh) recovered_.push_back(m.name);
  }
  std::vector<Member> leaving;
  for (const Member& m : membersOnDisk(c)) {
    bool keep = std::any_of(wanted.begin(), wanted.end(),
                            [&](const Member& w) { return w.name == m.name; });
    if (!keep && pids_.contains(m.name)) leaving.push_back(m);
  }
  // Signalled together so their shutdowns overlap; stop() then waits for each.
  for (const Member& m : leaving) ::kill(pids_.at(m.name), SIGTERM);
  for (const Member& m : leaving) stop(m, "no longer part of the ensemble (its data is kept)");
}

void LocalBackend::restartMember(const ZkCluster& c, const RestartMember& r) {
  const std::string& name = r.member.name;
  if (startedThisPass_.contains(name)) return;  // just started on the current rendering
  std::string role = roleOf(lastSeen(name));
  log_("member " + name + " (" + role + "): " + describeRestart(r));
  state_.history.push_back({name, role, r.reason, targetHash(c), nowRfc3339()});
  saveState();
  stop(r.member, "restart");
  start(c, r.member, r.reason);
  restartedAt_[name] = Clock::now();
}

void LocalBackend::updateStatus(ZkClusterStatus status) {
  for (Condition& cond : status.conditions) {
    if (cond.lastTransitionTime.empty()) cond.lastTransitionTime = nowRfc3339();
  }
  if (status == state_.status) return;
  state_.status = std::move(status);
  saveState();
}

void LocalBackend::reportEvent(const EmitEvent& e) {
  if (e.reason == "RestartingMember") return;  // restartMember() says it, with the member's role
  if (e.reason == "MemberRestarted") {
    std::string name = e.message.substr(0, e.message.find(' '));
    auto it = restartedAt_.find(name);
    if (it != restartedAt_.end()) {
      log_("member " + name + " back in sync after " + seconds(Clock::now() - it->second) + " (" +
           e.message + ")");
      restartedAt_.erase(it);
      return;
    }
  }
  log_(std::string(e.warning ? "warning " : "") + e.reason + ": " + e.message);
}

std::optional<std::string> LocalBackend::execute(const ZkCluster& c, const Plan& plan) {
  startedThisPass_.clear();
  waits_.clear();
  std::optional<std::string> error;
  // Events describe the plan's decisions (a member back in sync, a roll started), so they are
  // told before the actions that follow from them.
  for (const Action& action : plan.actions) {
    if (auto* e = std::get_if<EmitEvent>(&action)) reportEvent(*e);
  }
  for (const Action& action : plan.actions) {
    try {
      if (auto* s = std::get_if<UpdateStatus>(&action)) {
        updateStatus(s->status);
      } else if (auto* a = std::get_if<ApplyObjects>(&action)) {
        applyObjects(c, a->membership);
      } else if (auto* add = std::get_if<ReconfigAdd>(&action)) {
        reconfigAdd(c, add->member);
      } else if (auto* rm = std::get_if<ReconfigRemove>(&action)) {
        reconfigRemove(c, rm->member);
      } else if (auto* r = std::get_if<RestartMember>(&action)) {
        restartMember(c, *r);
      } else if (auto* w = std::get_if<Wait>(&action)) {
        waits_.insert(w->reason);
      }
    } catch (const std::exception& ex) {
      error = describe(action) + ": " + ex.what();
      break;
    }
  }
  if (!error) removeTlsLeftovers(c);
  for (const std::string& w : waits_) {
    if (!lastWaits_.contains(w)) log_(w.starts_with("waiting") ? w : "waiting: " + w);
  }
  lastWaits_ = waits_;
  return error;
}

void LocalBackend::stopAll() {
  reapExitedChildren();
  auto processes = findServerProcesses(fs::path(options_.serverBinary).filename());
  std::vector<std::pair<std::string, pid_t>> ours;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.stateDir / "members", ec)) {
    auto it = processes.find((e.path() / "zoo.cfg").string());
    if (it != processes.end()) ours.emplace_back(e.path().filename(), it->second.pid);
  }
  // All at once: stopping one by one would make the rest elect a leader for nothing.
  for (const auto& [name, pid] : ours) ::kill(pid, SIGTERM);
  for (const auto& [name, pid] : ours) {
    StopOutcome outcome = stopPid(pid);
    log_("member " + name + ": stopped (pid " + std::to_string(pid) +
         (outcome.status ? ", " + describeWaitStatus(*outcome.status) : std::string()) +
         (outcome.clean ? ")" : ", killed)"));
  }
  // Anything else this run started (its files since removed) is stopped and waited for too.
  for (auto children = children_; const auto& [pid, name] : children) {
    StopOutcome outcome = stopPid(pid);
    if (outcome.status)
      log_("member " + name + ": stopped (pid " + std::to_string(pid) + ", " +
           describeWaitStatus(*outcome.status) + ")");
  }
  reapChildren();
}

void LocalBackend::removeTlsLeftovers(const ZkCluster& c) {
  std::vector<Member> onDisk = membersOnDisk(c);
  // A running member needs the files its zoo.cfg names; one that starts again gets a new zoo.cfg.
  bool used = std::any_of(onDisk.begin(), onDisk.end(), [&](const Member& m) {
    return pids_.contains(m.name) &&
           readFile(configPath(m)).find(tlsDirOf(c, m, addressing_) + "/") != std::string::npos;
  });
  if (!tlsLeftoversUnused(c, used)) return;
  std::vector<fs::path> made{options_.stateDir / "tls"};
  for (const Member& m : onDisk) made.emplace_back(tlsDirOf(c, m, addressing_));
  for (const fs::path& dir : made) {
    if (fs::exists(dir) && fs::remove_all(dir) > 0) {
      reportEvent({false, "ObjectDeleted",
                   dir.string() + " deleted: spec.tls is off and no member uses it any more"});
    }
  }
  ca_.reset();
}

std::optional<TlsObservation> LocalBackend::tlsObservation(const ZkCluster& c) const {
  if (!c.spec.tls.enabled() || c.status.voters == 0) return std::nullopt;
  TlsEvidence evidence;
  evidence.caPem = readFile(options_.stateDir / "tls" / "trusted.crt");
  std::vector<Member> ms = members(c, {c.status.voters, c.status.observers});
  for (const Member& m : ms) {
    std::string keystore = readFile(fs::path(tlsDirOf(c, m, addressing_)) / keystoreFileName(m));
    if (!keystore.empty()) evidence.members[m.name] = keystore;
  }
  TlsObservation observed = observeTls(c, ms, evidence, unixSeconds());
  if (auto ca = readLocalCa(options_.stateDir / "tls")) {
    observed.status.caRotation = std::string(caRotationPhaseName(ca->phase()));
  }
  return observed;
}

std::string LocalBackend::ensembleJson(const ZkCluster& c,
                                       const std::string& operatorMetrics) const {
  value out = value::object();
  value list = value::array();
  std::string connect;
  Membership applied{state_.status.voters, state_.status.observers};
  for (const Member& m : members(c, applied)) {
    Endpoint e = endpointOf(c, m, addressing_);
    std::string client =
        e.host + ":" +
        std::to_string(hasPlainClientPort(c) ? e.ports.client : e.ports.secureClient);
    connect += (connect.empty() ? "" : ",") + client;
    const ObservedMember* seen = lastSeen(m.name);
    value entry = value::object();
    entry["id"] = value::number(m.id);
    entry["name"] = value::string(m.name);
    entry["role"] = value::string(roleOf(seen));
    entry["client"] = value::string(client);
    entry["metrics"] = value::string(e.host + ":" + std::to_string(e.ports.metrics));
    auto pid = pids_.find(m.name);
    entry["pid"] = value::number(pid == pids_.end() ? 0 : pid->second);
    list[list.size()] = entry;
  }
  out["connect"] = value::string(connect);
  if (c.spec.tls.enabled()) {
    // What a client needs to connect over TLS: the CAs to trust (two mid-rotation), and the
    // operator's client certificate.
    value tls = value::object();
    fs::path dir = options_.stateDir / "tls";
    tls["mode"] = value::string(std::string(clientTlsName(c.spec.tls.client)));
    tls["ca"] = value::string((dir / "trusted.crt").string());
    tls["certfile"] = value::string((dir / "operator.crt").string());
    tls["keyfile"] = value::string((dir / "operator.key").string());
    out["tls"] = tls;
  }
  out["operator_metrics"] = value::string(operatorMetrics);
  out["members"] = list;
  return out.serialize() + "\n";
}

}  // namespace zk::op::local
