#include "net/admin_commands.h"

#include <gtest/gtest.h>

#include <set>

#include "net/admin_server.h"
#include "net_test_util.h"

namespace zk::admin {
namespace {

class AdminCommandsTest : public ::testing::Test {
 protected:
  AdminCommandsTest() {
    config_.dataDir = "/var/zk";
    config_.dataLogDir = "/var/zk";
    config_.clientPort = 2181;
    config_.initialConfig = "tickTime=2000\n";
    ConnectionStats plain;
    plain.remote = "/127.0.0.1:4000";
    plain.sessionId = 0x100000000000001;
    ConnectionStats tls = plain;
    tls.secure = true;
    server_.connections_ = {plain, tls};
    server_.bySession_ = {{0x100000000000001, {"/a", "/b"}}};
    server_.byPath_ = {{"/a", {0x100000000000001}}, {"/b", {0x100000000000001}}};
  }

  web::json::value run(std::string_view name, CommandArgs args = {}) {
    return runCommand(name, args, ctx_);
  }

  FakeServer server_;
  ServerConfig config_;
  std::int64_t traceMask_ = 0;
  CommandContext ctx_{server_, config_, traceMask_};
};

TEST(AdminCommandTable, EveryNameAndAliasFindsItsCommand) {
  std::set<std::string_view> seen;
  for (const CommandInfo& c : commandTable()) {
    ASSERT_FALSE(c.aliases.empty());
    EXPECT_EQ(c.aliases.front(), c.primaryName);
    for (std::string_view alias : c.aliases) {
      EXPECT_TRUE(seen.insert(alias).second) << alias << " names two commands";
      ASSERT_NE(findCommand(alias), nullptr) << alias;
      EXPECT_EQ(findCommand(alias)->primaryName, c.primaryName);
    }
  }
  for (std::string_view name :
       {"ruok", "mntr", "conf", "cons",        "crst", "srst", "srvr", "stat",    "dirs",
        "dump", "envi", "gtmk", "stmk",        "hash", "icfg", "isro", "lsnp",    "lead",
        "obsr", "orst", "sysp", "voting_view", "wchs", "wchc", "wchp", "zabstate"})
    EXPECT_NE(findCommand(name), nullptr) << name;
  EXPECT_EQ(findCommand("RUOK"), nullptr);
  EXPECT_EQ(findCommand("commands"), nullptr);  // as in ZooKeeper 3.8.0: the URL lists them
}

TEST_F(AdminCommandsTest, AnswersCarryThePrimaryNameAndANullError) {
  auto answer = run("srvr");
  EXPECT_EQ(answer.at("command").as_string(), "server_stats");
  EXPECT_TRUE(answer.at("error").is_null());
  EXPECT_EQ(answer.at("server_stats").at("server_state").as_string(), "standalone");
}

TEST_F(AdminCommandsTest, UnknownCommandKeepsTheAskedName) {
  auto answer = run("nosuch");
  EXPECT_EQ(answer.at("command").as_string(), "nosuch");
  EXPECT_EQ(answer.at("error").as_string(), "Unknown command: nosuch");
  EXPECT_EQ(answer.size(), 2u);
}

TEST_F(AdminCommandsTest, ServerRequiredCommandsWaitForAServingServer) {
  server_.serving_ = false;
  EXPECT_EQ(run("ruok").at("error").as_string(),
            "This ZooKeeper instance is not currently serving requests");
  EXPECT_TRUE(run("mntr").at("error").is_null());
  EXPECT_TRUE(run("envi").at("error").is_null());
}

TEST_F(AdminCommandsTest, ConnectionsSplitPlainFromTls) {
  auto answer = run("cons");
  ASSERT_EQ(answer.at("connections").size(), 1u);
  ASSERT_EQ(answer.at("secure_connections").size(), 1u);
  auto& c = answer.at("connections").at(0);
  EXPECT_EQ(c.at("remote_socket_address").as_string(), "127.0.0.1:4000");
  EXPECT_EQ(c.at("session_id").as_number().to_int64(), 0x100000000000001);
  EXPECT_FALSE(run("stat").at("connections").at(0).has_field("session_id"));
}

TEST_F(AdminCommandsTest, WatchesBySessionAndByPath) {
  EXPECT_EQ(run("wchs").at("num_total_watches").as_integer(), 2);
  EXPECT_EQ(run("wchs").at("num_paths").as_integer(), 2);
  auto bySession = run("wchc").at("session_id_to_watched_paths");
  EXPECT_EQ(bySession.at(std::to_string(0x100000000000001)).size(), 2u);
  EXPECT_EQ(run("wchp").at("path_to_session_ids").at("/a").at(0).as_number().to_int64(),
            0x100000000000001);
}

TEST_F(AdminCommandsTest, PathsThatAreNotUtf8AreShownAsZooKeeperReadsThem) {
  // Only a snapshot can hold such a path; ZooKeeper decodes it to a Java String, with U+FFFD
  // for each malformed sequence, and the JSON must stay valid UTF-8 either way.
  const std::string bad = "/caf\xE9/\xE2\x82";
  const std::string shown = "/caf\xEF\xBF\xBD/\xEF\xBF\xBD";
  constexpr std::int64_t kSession = 0x100000000000002;
  server_.bySession_ = {{kSession, {bad}}};
  server_.byPath_ = {{bad, {kSession}}};
  server_.sessions_.ephemerals = {{kSession, {bad}}};
  EXPECT_EQ(
      run("wchc").at("session_id_to_watched_paths").at(std::to_string(kSession)).at(0).as_string(),
      shown);
  EXPECT_TRUE(run("wchp").at("path_to_session_ids").has_field(shown));
  EXPECT_EQ(run("dump")
                .at("session_id_to_ephemeral_paths")
                .at(std::to_string(kSession))
                .at(0)
                .as_string(),
            shown);
}

TEST_F(AdminCommandsTest, TraceMaskIsKeptAndValidated) {
  EXPECT_EQ(run("stmk").at("error").as_string(), "setTraceMask requires long traceMask argument");
  EXPECT_EQ(run("stmk", {{"traceMask", "12x"}}).at("error").as_string(),
            "setTraceMask requires long traceMask argument, got 12x");
  EXPECT_EQ(run("set_trace_mask", {{"traceMask", "42"}}).at("tracemask").as_integer(), 42);
  EXPECT_EQ(run("gtmk").at("tracemask").as_integer(), 42);
}

TEST_F(AdminCommandsTest, StandaloneHasNoLeader) {
  auto answer = run("lead");
  EXPECT_EQ(answer.at("error").as_string(), "server is not initialized");
  EXPECT_FALSE(answer.has_field("is_leader"));
  EXPECT_EQ(run("zabstate").at("zabstate").as_string(), "");
}

TEST_F(AdminCommandsTest, LastSnapshotIsHex) {
  server_.stats_.lastSnapshotZxid = 0x100000002;
  server_.stats_.lastSnapshotTimeSec = 1700000000;
  auto answer = run("lsnp");
  EXPECT_EQ(answer.at("zxid").as_string(), "100000002");
  EXPECT_EQ(answer.at("timestamp").as_number().to_int64(), 1700000000);
}

TEST_F(AdminCommandsTest, InitialConfigurationIsTheFileAsRead) {
  EXPECT_EQ(run("icfg").at("initial_configuration").as_string(), "tickTime=2000\n");
}

TEST(AdminCommandLinks, OneLinkPerPrimaryNameSorted) {
  std::string page = commandLinksPage("/commands");
  EXPECT_EQ(page.find("<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"), 0u);
  EXPECT_NE(page.find("/commands/zabstate\">zabstate</a>"), std::string::npos);
  EXPECT_EQ(page.find("/commands/conf\""), std::string::npos);
}

Request get(std::string target) {
  Request request(http::verb::get, target, 11);
  return request;
}

TEST_F(AdminCommandsTest, RequestsRouteUnderTheCommandUrl) {
  EXPECT_EQ(answerRequest(get("/commands/ruok"), "/commands", ctx_).result_int(), 200);
  EXPECT_EQ(answerRequest(get("/commands"), "/commands", ctx_).result_int(), 200);
  EXPECT_EQ(answerRequest(get("/"), "/commands", ctx_).result_int(), 404);
  EXPECT_EQ(answerRequest(get("/commandsX/ruok"), "/commands", ctx_).result_int(), 404);
  EXPECT_EQ(answerRequest(get("/admin/ruok"), "/admin", ctx_).result_int(), 200);
  Request post(http::verb::post, "/commands/ruok", 11);
  EXPECT_EQ(answerRequest(post, "/commands", ctx_).result_int(), 405);
  auto stmk = answerRequest(get("/commands/stmk?x=%zz&traceMask=%37"), "/commands", ctx_);
  EXPECT_EQ(web::json::value::parse(stmk.body()).at("tracemask").as_integer(), 7);
  auto escaped = answerRequest(get("/commands/%72uok"), "/commands", ctx_);
  EXPECT_EQ(web::json::value::parse(escaped.body()).at("command").as_string(), "ruok");
  // A name that is not UTF-8 is read as ISO-8859-1 (as Jetty), so the answer is still JSON.
  auto binary = answerRequest(get("/commands/a\xff%FEb"), "/commands", ctx_);
  EXPECT_EQ(web::json::value::parse(binary.body()).at("command").as_string(),
            "a\xc3\xbf\xc3\xbe"
            "b");
  Request head(http::verb::head, "/commands/ruok", 11);
  auto headers = answerRequest(head, "/commands", ctx_);
  EXPECT_TRUE(headers.body().empty());
  EXPECT_EQ(headers[http::field::content_length],
            std::to_string(answerRequest(get("/commands/ruok"), "/commands", ctx_).body().size()));
}

TEST(AdminParseErrors, StatusAsJettyAnswers) {
  EXPECT_EQ(answerParseError(http::error::header_limit, false).result_int(), 414);
  EXPECT_EQ(answerParseError(http::error::header_limit, true).result_int(), 431);
  EXPECT_EQ(answerParseError(http::error::body_limit, true).result_int(), 413);
  auto bad = answerParseError(http::error::bad_method, false);
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_FALSE(bad.keep_alive());
}

}  // namespace
}  // namespace zk::admin
