// The request pipeline driven directly: a recording channel stands in for the socket and an
// in-memory sink for the log, so ordering and durability rules are checked step by step.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "jute/reader.h"
#include "jute/writer.h"
#include "pipeline/prep.h"
#include "pipeline/request_processor.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {
namespace {

struct Frame {
  ReplyHeader header;
  std::string body;
};

class RecordingChannel : public ClientChannel {
 public:
  void send(std::string frame) override { frames.push_back(std::move(frame)); }
  void close(std::string_view reason) override { closedWith = std::string(reason); }
  void sessionEstablished(std::int64_t id, std::int32_t timeout) override {
    sessionId = id;
    timeoutMs = timeout;
  }
  std::string remoteAddress() const override { return "127.0.0.1"; }

  // Replies after the connect response, decoded.
  std::vector<Frame> replies() const {
    std::vector<Frame> out;
    for (std::size_t i = 1; i < frames.size(); ++i) {
      jute::Reader in(std::string_view(frames[i]).substr(4));
      Frame f{ReplyHeader::read(in), {}};
      f.body.assign(reinterpret_cast<const char*>(in.rest().data()), in.rest().size());
      out.push_back(f);
    }
    return out;
  }

  std::vector<std::string> frames;
  std::string closedWith;
  std::int64_t sessionId = 0;
  std::int32_t timeoutMs = 0;
};

class MemorySink : public TxnSink {
 public:
  std::optional<std::int64_t> nextZxid() const override {
    if (!assigning) return std::nullopt;
    return txns.empty() ? 1 : txns.back().header.zxid + 1;
  }
  void append(const Txn& txn) override { txns.push_back(txn); }
  std::vector<Txn> txns;
  bool assigning = true;  // false: as a leader that stopped serving
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : processor(config(), tree, sink, [this] { return now; }) {}

  static ProcessorConfig config() {
    ProcessorConfig c;
    c.serverId = 1;
    c.tickMs = 100;
    c.minSessionTimeoutMs = 200;
    c.maxSessionTimeoutMs = 2000;
    return c;
  }

  std::shared_ptr<RecordingChannel> connect(std::int32_t timeout = 1000) {
    auto channel = std::make_shared<RecordingChannel>();
    ConnectRequest req;
    req.timeOut = timeout;
    req.passwd = std::string(16, '\0');
    processor.connect(channel, req);
    durable();
    return channel;
  }

  void durable() {
    if (!sink.txns.empty()) processor.onDurable(sink.txns.back().header.zxid);
  }

  template <typename Record>
  void send(const std::shared_ptr<RecordingChannel>& ch, std::int32_t xid, OpCode op,
            const Record& record) {
    jute::Writer out;
    record.write(out);
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
    processor.request(ch, ch->sessionId, RequestHeader{xid, static_cast<int>(op)}, bytes);
  }

  void create(const std::shared_ptr<RecordingChannel>& ch, std::int32_t xid,
              const std::string& path, const std::string& data,
              CreateMode mode = CreateMode::kPersistent) {
    jute::Writer out;
    CreateRequest req{
        path, data, {ACL{perms::kAll, {"world", "anyone"}}}, static_cast<int>(mode), -1};
    req.write(out, false);
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
    processor.request(ch, ch->sessionId, RequestHeader{xid, static_cast<int>(OpCode::kCreate)},
                      bytes);
  }

  std::int64_t now = 1'000'000;
  DataTree tree;
  MemorySink sink;
  RequestProcessor processor;
};

TEST_F(PipelineTest, NewSessionIsAnsweredOnlyOnceItsTxnIsDurable) {
  auto channel = std::make_shared<RecordingChannel>();
  ConnectRequest req;
  req.timeOut = 100000;
  processor.connect(channel, req);
  EXPECT_TRUE(channel->frames.empty());
  ASSERT_EQ(sink.txns.size(), 1u);
  EXPECT_EQ(sink.txns[0].header.type, static_cast<int>(OpCode::kCreateSession));
  durable();
  ASSERT_EQ(channel->frames.size(), 1u);
  jute::Reader in(std::string_view(channel->frames[0]).substr(4));
  auto response = ConnectResponse::read(in);
  EXPECT_EQ(response.timeOut, 2000) << "timeout is clamped to maxSessionTimeout";
  EXPECT_NE(response.sessionId, 0);
  EXPECT_EQ(response.passwd, SessionTracker::passwordFor(response.sessionId));
}

TEST_F(PipelineTest, WriteIsNotAcknowledgedBeforeDurable) {
  auto ch = connect();
  create(ch, 1, "/a", "x");
  EXPECT_EQ(ch->replies().size(), 0u);
  EXPECT_EQ(tree.find("/a"), nullptr) << "not applied before durable";
  durable();
  ASSERT_EQ(ch->replies().size(), 1u);
  EXPECT_EQ(ch->replies()[0].header.err, 0);
  EXPECT_NE(tree.find("/a"), nullptr);
}

// A leader that stopped serving (its zxid counter rolled over) has no zxid to give: a write is
// neither logged nor answered, its client is closed to retry elsewhere, and no session expires
// here (the next leader decides that).
TEST_F(PipelineTest, WithoutAZxidNothingIsLoggedAndTheClientIsClosed) {
  auto ch = connect();
  auto expiring = connect(200);
  std::size_t logged = sink.txns.size();
  sink.assigning = false;
  create(ch, 1, "/a", "x");
  EXPECT_EQ(sink.txns.size(), logged);
  EXPECT_EQ(ch->frames.size(), 1u) << "only the connect response";
  EXPECT_NE(ch->closedWith.find("zxid"), std::string::npos) << ch->closedWith;
  EXPECT_EQ(processor.outstandingRequests(), 0u);
  now += 10'000;
  processor.tick();
  EXPECT_EQ(sink.txns.size(), logged) << "no closeSession without a zxid";
  EXPECT_TRUE(expiring->closedWith.empty());
  auto refused = std::make_shared<RecordingChannel>();
  ConnectRequest req;
  req.timeOut = 1000;
  processor.connect(refused, req);
  EXPECT_TRUE(refused->frames.empty());
  EXPECT_NE(refused->closedWith.find("not a serving leader"), std::string::npos);
}

TEST_F(PipelineTest, ReadQueuedBehindWriteSeesExactlyThatWrite) {
  auto ch = connect();
  create(ch, 1, "/a", "one");
  send(ch, 2, OpCode::kGetData, PathWatchRequest{"/a", false});
  send(ch, 3, OpCode::kSetData, SetDataRequest{"/a", "two", -1});
  EXPECT_EQ(ch->replies().size(), 0u);
  durable();
  auto replies = ch->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].header.xid, 1);
  EXPECT_EQ(replies[1].header.xid, 2);
  jute::Reader in(replies[1].body);
  EXPECT_EQ(in.readBuffer("data"), "one") << "the read ran between the two writes";
  EXPECT_EQ(replies[2].header.xid, 3);
}

TEST_F(PipelineTest, PipelinedWritesAreValidatedAgainstPendingChanges) {
  auto ch = connect();
  create(ch, 1, "/a", "");
  create(ch, 2, "/a/b", "");  // parent exists only as a pending change
  create(ch, 3, "/a", "");    // already exists (pending)
  durable();
  auto replies = ch->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].header.err, 0);
  EXPECT_EQ(replies[1].header.err, 0);
  EXPECT_EQ(replies[2].header.err, static_cast<int>(Err::kNodeExists));
}

TEST_F(PipelineTest, FailedWriteWaitsForTheWritesItWasCheckedAgainst) {
  auto other = connect();
  auto ch = connect();
  create(other, 1, "/a", "");
  create(ch, 1, "/a", "");  // fails against other's pending create
  EXPECT_EQ(ch->replies().size(), 0u) << "NodeExists must not be seen before /a is durable";
  durable();
  ASSERT_EQ(ch->replies().size(), 1u);
  EXPECT_EQ(ch->replies()[0].header.err, static_cast<int>(Err::kNodeExists));
}

// As ZooKeeper's PrepRequestProcessor: a failed write still takes the next zxid, as an error
// txn that is logged like any other, and its reply carries that zxid.
TEST_F(PipelineTest, FailedWriteIsAnErrorTxnWithItsOwnZxid) {
  auto ch = connect();
  std::int64_t before = sink.txns.back().header.zxid;
  create(ch, 1, "/no/parent", "");
  ASSERT_EQ(sink.txns.size(), 2u);
  const Txn& error = sink.txns.back();
  EXPECT_EQ(error.header.zxid, before + 1);
  EXPECT_EQ(error.header.type, static_cast<int>(OpCode::kError));
  ASSERT_TRUE(std::holds_alternative<ErrorTxn>(error.body));
  EXPECT_EQ(std::get<ErrorTxn>(error.body).err, static_cast<int>(Err::kNoNode));
  EXPECT_TRUE(ch->replies().empty()) << "answered only once its txn is durable";
  durable();
  ASSERT_EQ(ch->replies().size(), 1u);
  EXPECT_EQ(ch->replies()[0].header.err, static_cast<int>(Err::kNoNode));
  EXPECT_EQ(ch->replies()[0].header.zxid, before + 1);
  EXPECT_EQ(tree.lastProcessedZxid(), before + 1);
}

// A sync (no txn) is answered with the zxid the tree is at when it is answered, as ZooKeeper's
// FinalRequestProcessor writes it, not with the one it was queued at.
TEST_F(PipelineTest, SyncIsAnsweredWithTheZxidOfItsMoment) {
  auto ch = connect();
  create(ch, 1, "/a", "");
  send(ch, 2, OpCode::kSync, PathRequest{"/a"});
  EXPECT_TRUE(ch->replies().empty());
  durable();
  ASSERT_EQ(ch->replies().size(), 2u);
  EXPECT_EQ(ch->replies()[1].header.zxid, sink.txns.back().header.zxid);
}

TEST_F(PipelineTest, WatchEventPrecedesTheReplyThatShowsTheChange) {
  auto watcher = connect();
  auto writer = connect();
  create(writer, 1, "/a", "v1");
  durable();
  send(watcher, 1, OpCode::kGetData, PathWatchRequest{"/a", true});
  send(writer, 2, OpCode::kSetData, SetDataRequest{"/a", "v2", -1});
  durable();
  send(watcher, 2, OpCode::kExists, PathWatchRequest{"/a", false});
  auto replies = watcher->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[1].header.xid, xid::kNotification);
  jute::Reader in(replies[1].body);
  auto event = WatcherEvent::read(in);
  EXPECT_EQ(event.type, static_cast<int>(EventType::kNodeDataChanged));
  EXPECT_EQ(event.path, "/a");
  EXPECT_EQ(replies[2].header.xid, 2);
  jute::Reader stat(replies[2].body);
  EXPECT_EQ(Stat::read(stat).version, 1) << "the reply after the event shows the change";
}

TEST_F(PipelineTest, SequentialSuffixComesFromParentCversion) {
  auto ch = connect();
  create(ch, 1, "/q", "");
  create(ch, 2, "/q/n-", "", CreateMode::kPersistentSequential);
  create(ch, 3, "/q/n-", "", CreateMode::kPersistentSequential);
  durable();
  auto replies = ch->replies();
  ASSERT_EQ(replies.size(), 3u);
  jute::Reader first(replies[1].body);
  jute::Reader second(replies[2].body);
  EXPECT_EQ(first.readString("path"), "/q/n-0000000000");
  EXPECT_EQ(second.readString("path"), "/q/n-0000000001");
}

TEST_F(PipelineTest, ExpiryRemovesEphemeralsAndFiresWatches) {
  auto owner = connect(200);
  auto watcher = connect(2000);
  create(owner, 1, "/e", "", CreateMode::kEphemeral);
  durable();
  send(watcher, 1, OpCode::kExists, PathWatchRequest{"/e", true});
  now += 1000;
  processor.tick();
  durable();
  EXPECT_EQ(tree.find("/e"), nullptr);
  EXPECT_EQ(owner->closedWith, "session expired");
  auto replies = watcher->replies();
  ASSERT_EQ(replies.size(), 2u);
  jute::Reader in(replies[1].body);
  EXPECT_EQ(WatcherEvent::read(in).type, static_cast<int>(EventType::kNodeDeleted));
}

TEST_F(PipelineTest, ReconnectWithWrongPasswordIsRefused) {
  auto ch = connect();
  auto again = std::make_shared<RecordingChannel>();
  ConnectRequest req;
  req.timeOut = 1000;
  req.sessionId = ch->sessionId;
  req.passwd = std::string(16, 'x');
  processor.connect(again, req);
  ASSERT_EQ(again->frames.size(), 1u);
  jute::Reader in(std::string_view(again->frames[0]).substr(4));
  EXPECT_EQ(ConnectResponse::read(in).sessionId, 0);
  EXPECT_FALSE(again->closedWith.empty());
}

TEST_F(PipelineTest, FailedMultiReportsEachOpAndChangesNothing) {
  auto ch = connect();
  jute::Writer out;
  MultiHeader{static_cast<int>(OpCode::kCreate), false, -1}.write(out);
  CreateRequest{"/m", "", {ACL{perms::kAll, {"world", "anyone"}}}, 0, -1}.write(out, false);
  MultiHeader{static_cast<int>(OpCode::kDelete), false, -1}.write(out);
  PathVersionRequest{"/missing", -1}.write(out);
  MultiHeader{static_cast<int>(OpCode::kSetData), false, -1}.write(out);
  SetDataRequest{"/m", "x", -1}.write(out);
  MultiHeader{-1, true, -1}.write(out);
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
  processor.request(ch, ch->sessionId, RequestHeader{7, static_cast<int>(OpCode::kMulti)}, bytes);
  durable();
  auto replies = ch->replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].header.err, 0) << "ZooKeeper reports multi errors per op";
  jute::Reader in(replies[0].body);
  std::vector<int> errs;
  for (;;) {
    auto h = MultiHeader::read(in);
    if (h.done) break;
    errs.push_back(in.readInt("err"));
  }
  EXPECT_EQ(errs, (std::vector<int>{0, static_cast<int>(Err::kNoNode),
                                    static_cast<int>(Err::kRuntimeInconsistency)}));
  EXPECT_EQ(tree.find("/m"), nullptr);
}

// A snapshot may name an ACL reference it never defines (ZooKeeper loads it, too): requests that
// need that list are answered MARSHALLINGERROR, as ZooKeeper answers them, and others go on.
TEST_F(PipelineTest, ANodeWithAnUndefinedAclIsAnsweredMarshallingError) {
  tree.clear();
  tree.loadNode("", NodeData(""), AclCache::kOpenUnsafeRef, StatPersisted{});  // the root
  tree.loadNode("/bad", NodeData("x"), 42, StatPersisted{});
  tree.finishLoad();
  auto ch = connect();
  send(ch, 1, OpCode::kGetData, PathWatchRequest{"/bad", false});
  create(ch, 2, "/bad/child", "y");
  send(ch, 3, OpCode::kGetData, PathWatchRequest{"/", false});
  durable();
  auto replies = ch->replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].header.err, static_cast<int>(Err::kMarshallingError));
  EXPECT_EQ(replies[1].header.err, static_cast<int>(Err::kMarshallingError));
  EXPECT_EQ(replies[2].header.err, 0) << "the session serves on";
  EXPECT_EQ(tree.find("/bad/child"), nullptr);
}

// enforce.auth.schemes: a session without such an id is answered SESSIONCLOSEDREQUIRESASLAUTH
// and closed; one the network layer authenticated (SASL) is served.
TEST(PipelineEnforcedAuth, OnlySessionsHoldingAnEnforcedSchemeAreServed) {
  DataTree tree;
  MemorySink sink;
  ProcessorConfig config;
  config.enforcedAuthSchemes = {"sasl"};
  RequestProcessor processor(config, tree, sink, [] { return std::int64_t{1'000'000}; });
  auto open = [&] {
    auto channel = std::make_shared<RecordingChannel>();
    ConnectRequest req;
    req.timeOut = 4000;
    req.passwd = std::string(16, '\0');
    processor.connect(channel, req);
    processor.onDurable(sink.txns.back().header.zxid);
    return channel;
  };
  auto getRoot = [&](const std::shared_ptr<RecordingChannel>& ch) {
    jute::Writer out;
    PathWatchRequest{"/", false}.write(out);
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
    processor.request(ch, ch->sessionId, RequestHeader{7, static_cast<int>(OpCode::kGetData)},
                      bytes);
  };
  auto anonymous = open();
  getRoot(anonymous);
  ASSERT_EQ(anonymous->replies().size(), 1u);
  EXPECT_EQ(anonymous->replies()[0].header.err,
            static_cast<int>(Err::kSessionClosedRequireSaslAuth));
  EXPECT_EQ(anonymous->replies()[0].header.xid, 7);
  EXPECT_FALSE(anonymous->closedWith.empty());

  auto bob = open();
  processor.addAuthId(bob->sessionId, Id{"sasl", "bob"});
  getRoot(bob);
  ASSERT_EQ(bob->replies().size(), 1u);
  EXPECT_EQ(bob->replies()[0].header.err, 0);
  EXPECT_TRUE(bob->closedWith.empty());
}

TEST(PipelineErrors, KeeperErrorAndMultiFailureAreExceptionsNamingCodeAndPath) {
  KeeperError missing(Err::kNoNode, "/a/b");
  const std::exception& asException = missing;
  EXPECT_STREQ(asException.what(), "NONODE (-101) for /a/b");
  EXPECT_STREQ(KeeperError(Err::kBadArguments).what(), "BADARGUMENTS (-8)");
  MultiFailure failure(3, 1, missing);
  EXPECT_EQ(failure.err, Err::kNoNode);
  EXPECT_STREQ(static_cast<const std::exception&>(failure).what(),
               "multi op 2 failed: NONODE (-101) for /a/b");
}

}  // namespace
}  // namespace zk
