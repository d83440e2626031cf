// zookube-dump: shows what a ZooKeeper/zookube data directory holds, without changing it.
//   zookube-dump [--json] DATADIR [DATALOGDIR]   the recovered tree and sessions
//   zookube-dump --log FILE                      one line per txn of a log file
//   zookube-dump --write-sample DATADIR          writes a small dataDir with zookube's storage
//                                                (snapshots + logs), for compatibility checks

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/opcodes.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"
#include "tree/data_tree.h"

namespace zk::tools {
namespace {

// "0x1f", as ZooKeeper prints ids and zxids.
std::string hex(std::int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hexBytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
  return out;
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string aclText(const AclList& acl, bool json) {
  std::string out = json ? "[" : "";
  for (std::size_t i = 0; i < acl.size(); ++i) {
    const ACL& a = acl[i];
    if (i > 0) out += ",";
    if (json) {
      out += "{\"perms\":" + std::to_string(a.perms) + ",\"scheme\":" + jsonString(a.id.scheme) +
             ",\"id\":" + jsonString(a.id.id) + "}";
    } else {
      out += std::to_string(a.perms) + ":" + a.id.scheme + ":" + a.id.id;
    }
  }
  return json ? out + "]" : out;
}

void printNodeText(std::string_view path, const Node& n, const DataTree& tree) {
  const NodeStat& s = n.stat;
  std::cout << (path.empty() ? "/" : path) << "\n  data = " << hexBytes(n.data()) << " \""
            << printable(n.data()) << "\"\n  cZxid = " << hex(s.czxid) << " ctime = " << s.ctime
            << "\n  mZxid = " << hex(s.mzxid) << " mtime = " << s.mtime
            << "\n  pZxid = " << hex(s.pzxid) << " cversion = " << s.cversion
            << " dataVersion = " << s.version << " aclVersion = " << s.aversion
            << "\n  ephemeralOwner = " << hex(s.ephemeralOwner)
            << "\n  acl = " << aclText(tree.acl(n), false) << "\n";
}

std::string nodeJson(std::string_view path, const Node& n, const DataTree& tree) {
  const NodeStat& s = n.stat;
  std::ostringstream o;
  o << "{\"path\":" << jsonString(path.empty() ? "/" : path) << ",\"data\":\"" << hexBytes(n.data())
    << "\",\"czxid\":" << s.czxid << ",\"mzxid\":" << s.mzxid << ",\"pzxid\":" << s.pzxid
    << ",\"ctime\":" << s.ctime << ",\"mtime\":" << s.mtime << ",\"version\":" << s.version
    << ",\"cversion\":" << s.cversion << ",\"aversion\":" << s.aversion
    << ",\"ephemeralOwner\":" << s.ephemeralOwner << ",\"numChildren\":" << tree.children(n).size()
    << ",\"acl\":" << aclText(tree.acl(n), true) << "}";
  return o.str();
}

int dumpTree(const std::string& dataDir, const std::string& logDir, bool json) {
  DataTree tree;
  storage::RecoveryOptions options;
  options.readOnly = true;
  storage::RecoveryResult r = storage::recover(dataDir, logDir, tree, options);
  if (json) {
    std::cout << "{\"lastZxid\":" << r.lastZxid << ",\"snapshotZxid\":" << r.snapshotZxid
              << ",\"txnsReplayed\":" << r.txnsReplayed << ",\"sessions\":[";
    const char* sep = "";
    for (const auto& [id, timeout] : r.sessions) {
      std::cout << sep << "{\"id\":" << id << ",\"timeout\":" << timeout << "}";
      sep = ",";
    }
    std::cout << "],\"nodes\":[";
    sep = "";
    tree.visitFrom("", true, SIZE_MAX, [&](std::string_view path, const Node& n) {
      std::cout << sep << nodeJson(path, n, tree);
      sep = ",";
    });
    std::cout << "]}\n";
    return 0;
  }
  std::cout << "snapshot zxid " << hex(r.snapshotZxid) << ", " << r.txnsReplayed
            << " txns replayed, last zxid " << hex(r.lastZxid) << "\n";
  if (r.tornTail) std::cout << "torn tail ignored: " << *r.tornTail << "\n";
  tree.visitFrom("", true, SIZE_MAX,
                 [&](std::string_view path, const Node& n) { printNodeText(path, n, tree); });
  std::cout << "sessions (id, timeout):\n";
  for (const auto& [id, timeout] : r.sessions)
    std::cout << "  " << hex(id) << ", " << timeout << "\n";
  return 0;
}

// Null data (jute length -1) prints as "null", apart from empty data.
std::string dataText(const std::optional<std::string>& data) {
  return data ? hexBytes(*data) : "null";
}

struct BodyText {
  std::string operator()(const std::monostate&) const { return ""; }
  std::string operator()(const CreateTxn& t) const {
    return " path=" + t.path + " data=" + dataText(t.data) + " acl=" + aclText(t.acl, false) +
           (t.ephemeral ? " ephemeral" : "") +
           " parentCVersion=" + std::to_string(t.parentCVersion);
  }
  std::string operator()(const CreateContainerTxn& t) const {
    return " path=" + t.path + " data=" + dataText(t.data) + " acl=" + aclText(t.acl, false);
  }
  std::string operator()(const CreateTTLTxn& t) const {
    return " path=" + t.path + " data=" + dataText(t.data) + " ttl=" + std::to_string(t.ttl);
  }
  std::string operator()(const DeleteTxn& t) const { return " path=" + t.path; }
  std::string operator()(const SetDataTxn& t) const {
    return " path=" + t.path + " data=" + dataText(t.data) +
           " version=" + std::to_string(t.version);
  }
  std::string operator()(const CheckVersionTxn& t) const {
    return " path=" + t.path + " version=" + std::to_string(t.version);
  }
  std::string operator()(const SetACLTxn& t) const {
    return " path=" + t.path + " acl=" + aclText(t.acl, false);
  }
  std::string operator()(const CreateSessionTxn& t) const {
    return " timeout=" + std::to_string(t.timeOut);
  }
  std::string operator()(const CloseSessionTxn& t) const {
    return " ephemerals=" + std::to_string(t.paths2Delete.size());
  }
  std::string operator()(const ErrorTxn& t) const { return " err=" + std::to_string(t.err); }
  std::string operator()(const MultiTxn& t) const {
    std::string out = " ops=" + std::to_string(t.txns.size());
    for (const SubTxn& sub : t.txns) {
      out += " [" + std::string(opName(sub.type)) +
             std::visit([](const auto& b) { return BodyText{}(b); }, sub.body) + "]";
    }
    return out;
  }
};

int dumpLog(const std::string& file) {
  storage::readLogFile(file, [](const Txn& t, std::uint64_t offset) {
    const TxnHeader& h = t.header;
    std::cout << "zxid=" << hex(h.zxid) << " " << opName(h.type) << " session=" << hex(h.clientId)
              << " cxid=" << hex(h.cxid) << " time=" << h.time << " offset=" << offset
              << std::visit(BodyText{}, t.body) << "\n";
  });
  return 0;
}

}  // namespace

int writeSample(const std::string& dataDir);  // sample_data_dir.cpp

}  // namespace zk::tools

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "--log") return zk::tools::dumpLog(args[1]);
    if (args.size() == 2 && args[0] == "--write-sample") return zk::tools::writeSample(args[1]);
    bool json = !args.empty() && args[0] == "--json";
    if (json) args.erase(args.begin());
    if (args.size() == 1 || args.size() == 2) {
      return zk::tools::dumpTree(args[0], args.size() == 2 ? args[1] : args[0], json);
    }
  } catch (const std::exception& e) {
    std::cerr << "zookube-dump: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: zookube-dump [--json] DATADIR [DATALOGDIR]\n"
               "       zookube-dump --log LOGFILE\n"
               "       zookube-dump --write-sample DATADIR\n";
  return 2;
}
