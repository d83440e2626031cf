// A leader's and a learner's pipelines wired back to back with no Zab in between: the
// learner forwards, the leader prepares, the test "commits" each txn on both in zxid order.
// Checks what the learner's clients see: replies in order, errors from the leader, syncs
// and session changes through the quorum, expiry decided by the leader only.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "jute/reader.h"
#include "jute/writer.h"
#include "pipeline/request_processor.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "sessions/session_tracker.h"

namespace zk {
namespace {

class Channel : public ClientChannel {
 public:
  void send(std::string frame) override { frames.push_back(std::move(frame)); }
  void close(std::string_view reason) override { closedWith = std::string(reason); }
  void sessionEstablished(std::int64_t id, std::int32_t) override { sessionId = id; }
  std::string remoteAddress() const override { return "127.0.0.1"; }
  ReplyHeader reply(std::size_t i) const {  // frames[0] is the connect response
    jute::Reader in(std::string_view(frames.at(i + 1)).substr(4));
    return ReplyHeader::read(in);
  }
  std::vector<std::string> frames;
  std::string closedWith;
  std::int64_t sessionId = 0;
};

// Zab's part for the leader: zxids follow `last`, which a test sets to a new epoch's start.
struct Sink : TxnSink {
  std::optional<std::int64_t> nextZxid() const override { return last + 1; }
  void append(const Txn& txn) override {
    txns.push_back(txn);
    last = txn.header.zxid;
  }
  std::vector<Txn> txns;
  std::int64_t last = 0;
};

// A second learner (member 3) whose forwarded requests can be held back, as a slow link would.
class HeldForwarder : public RequestForwarder {
 public:
  explicit HeldForwarder(RequestProcessor& leader) : leader_(leader) {}
  void forward(std::int64_t sessionId, std::int32_t cxid, std::int32_t type, std::string body,
               const std::vector<Id>& authIds) override {
    held.push_back([=, this] {
      auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
      leader_.remoteRequest(3, sessionId, cxid, type, bytes, authIds);
    });
    if (!holding) release();
  }
  bool revalidate(std::int64_t, std::int32_t) override { return false; }
  void release() {
    for (auto& deliver : std::exchange(held, {})) deliver();
  }
  bool holding = false;
  std::vector<std::function<void()>> held;

 private:
  RequestProcessor& leader_;
};

class QuorumPipelineTest : public ::testing::Test, public RequestForwarder {
 protected:
  QuorumPipelineTest()
      : leader(
            config(1, PipelineRole::kLeader), leaderTree, leaderLog, [this] { return now; },
            recordingSyncs()),
        learner(
            config(2, PipelineRole::kLearner), learnerTree, learnerLog, [this] { return now; },
            forwardingTo(this)),
        // otherLink is built after `other`; only its address is taken here.
        other(
            config(3, PipelineRole::kLearner), otherTree, otherLog, [this] { return now; },
            forwardingTo(&otherLink)),
        otherLink(leader) {
    leaderLog.last = std::int64_t{3} << 32;
    leader.startLeading();
  }

  static PipelineLinks forwardingTo(RequestForwarder* forwarder) {
    PipelineLinks links;
    links.forwarder = forwarder;
    return links;
  }

  PipelineLinks recordingSyncs() {
    PipelineLinks links;
    links.remoteSyncReady = [this](std::int64_t sid) { syncsReady.push_back(sid); };
    return links;
  }

  static ProcessorConfig config(std::int64_t sid, PipelineRole role) {
    ProcessorConfig c;
    c.role = role;
    c.serverId = sid;
    c.tickMs = 100;
    c.minSessionTimeoutMs = 200;
    c.maxSessionTimeoutMs = 2000;
    return c;
  }

  void forward(std::int64_t sessionId, std::int32_t cxid, std::int32_t type, std::string body,
               const std::vector<Id>& authIds) override {
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    leader.remoteRequest(2, sessionId, cxid, type, bytes, authIds);
  }
  // Member 2's REVALIDATE waits in the link until the test lets the leader answer it.
  bool revalidate(std::int64_t sessionId, std::int32_t) override {
    revalidations.push_back(sessionId);
    return leaderReachable;
  }
  void answerRevalidations() {
    for (std::int64_t id : std::exchange(revalidations, {})) {
      auto answer = leader.revalidateSession(2, id);
      learner.sessionRevalidated(id, answer.valid, answer.boundaryZxid);
    }
  }

  // Commits everything the leader proposed so far, on both members.
  void commitAll() {
    for (; committed < leaderLog.txns.size(); ++committed) {
      const Txn& txn = leaderLog.txns[committed];
      leader.onDurable(txn.header.zxid);
      learner.applyCommitted(txn);
      other.applyCommitted(txn);
    }
  }

  // A new session (sessionId 0) or a reconnect of an existing one, on `member`.
  std::shared_ptr<Channel> connect(std::int64_t sessionId = 0, RequestProcessor* member = nullptr) {
    auto channel = std::make_shared<Channel>();
    ConnectRequest req;
    req.timeOut = 1000;
    req.sessionId = sessionId;
    req.passwd = sessionId == 0 ? std::string(16, '\0') : SessionTracker::passwordFor(sessionId);
    (member != nullptr ? *member : learner).connect(channel, req);
    if (sessionId != 0 && channel->sessionId == 0) channel->sessionId = sessionId;
    return channel;
  }

  template <typename Record>
  void send(const std::shared_ptr<Channel>& ch, std::int32_t xid, OpCode op, const Record& r,
            RequestProcessor* member = nullptr) {
    jute::Writer out;
    r.write(out);
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
    (member != nullptr ? *member : learner)
        .request(ch, ch->sessionId, RequestHeader{xid, static_cast<int>(op)}, bytes);
  }

  void create(const std::shared_ptr<Channel>& ch, std::int32_t xid, const std::string& path,
              RequestProcessor* member = nullptr) {
    jute::Writer out;
    CreateRequest{path, "v", {ACL{perms::kAll, {"world", "anyone"}}}, 0, -1}.write(out, false);
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
    (member != nullptr ? *member : learner)
        .request(ch, ch->sessionId, RequestHeader{xid, static_cast<int>(OpCode::kCreate)}, bytes);
  }

  std::int64_t now = 1'000'000;
  DataTree leaderTree, learnerTree, otherTree;
  Sink leaderLog, learnerLog, otherLog;
  RequestProcessor leader, learner, other;
  HeldForwarder otherLink;
  std::size_t committed = 0;
  std::vector<std::int64_t> syncsReady;
  std::vector<std::int64_t> revalidations;
  bool leaderReachable = true;
};

TEST_F(QuorumPipelineTest, SessionIsCreatedThroughTheLeaderWithTheEpochsZxids) {
  auto ch = connect();
  EXPECT_TRUE(ch->frames.empty()) << "answered before the quorum committed the session";
  ASSERT_EQ(leaderLog.txns.size(), 1u);
  EXPECT_EQ(leaderLog.txns[0].header.zxid, (std::int64_t{3} << 32) + 1);
  EXPECT_EQ(leaderLog.txns[0].header.clientId, ch->sessionId);
  EXPECT_EQ(ch->sessionId >> 56, 2) << "a learner's session ids carry its own server id";
  EXPECT_TRUE(learnerLog.txns.empty()) << "a learner prepares nothing itself";
  commitAll();
  ASSERT_EQ(ch->frames.size(), 1u);
  EXPECT_TRUE(leader.sessions().contains(ch->sessionId));
  EXPECT_TRUE(learner.sessions().contains(ch->sessionId));
}

TEST_F(QuorumPipelineTest, WritesAndErrorsComeBackInOrderThroughCommits) {
  auto ch = connect();
  commitAll();
  create(ch, 1, "/a");
  create(ch, 2, "/a");                                          // fails at the leader: NODEEXISTS
  create(ch, 3, "/x/y");                                        // NONODE
  send(ch, 4, OpCode::kExists, PathWatchRequest{"/a", false});  // a read behind the writes
  EXPECT_EQ(ch->frames.size(), 1u) << "nothing answered before commit";
  commitAll();
  ASSERT_EQ(ch->frames.size(), 5u);
  EXPECT_EQ(ch->reply(0).err, 0);
  EXPECT_EQ(ch->reply(1).err, static_cast<int>(Err::kNodeExists));
  EXPECT_EQ(ch->reply(2).err, static_cast<int>(Err::kNoNode));
  EXPECT_EQ(ch->reply(3).err, 0) << "the read sees the learner's own write";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ch->reply(i).xid, i + 1);
  EXPECT_NE(learnerTree.find("/a"), nullptr);
}

TEST_F(QuorumPipelineTest, SyncIsAnsweredOnlyAfterTheLeaderSaysSo) {
  auto ch = connect();
  commitAll();
  create(ch, 1, "/s");
  send(ch, 2, OpCode::kSync, PathRequest{"/s"});
  EXPECT_TRUE(syncsReady.empty()) << "leader released a sync before its pending write";
  commitAll();
  ASSERT_EQ(syncsReady, std::vector<std::int64_t>{2});
  EXPECT_EQ(ch->frames.size(), 2u) << "sync answered before the leader's SYNC";
  learner.syncAnswered();
  ASSERT_EQ(ch->frames.size(), 3u);
  EXPECT_EQ(ch->reply(1).xid, 2);
}

TEST_F(QuorumPipelineTest, OnlyTheLeaderExpiresAndLearnersReportActivity) {
  auto ch = connect();
  commitAll();
  learner.takeTouchedSessions();
  learner.request(ch, ch->sessionId, RequestHeader{-2, static_cast<int>(OpCode::kPing)}, {});
  auto touched = learner.takeTouchedSessions();
  ASSERT_EQ(touched.size(), 1u);
  EXPECT_EQ(touched[0].first, ch->sessionId);
  EXPECT_TRUE(learner.takeTouchedSessions().empty());

  now += 800;
  leader.touchSessions(touched);  // reported activity keeps it alive at the leader
  now += 800;
  leader.tick();
  learner.tick();
  EXPECT_EQ(committed, leaderLog.txns.size()) << "expired although a learner reported it";
  now += 2500;
  learner.tick();
  EXPECT_EQ(committed, leaderLog.txns.size()) << "learners must not expire sessions";
  leader.tick();
  ASSERT_EQ(leaderLog.txns.size(), committed + 1);
  EXPECT_EQ(leaderLog.txns.back().header.type, static_cast<int>(OpCode::kCloseSession));
  commitAll();
  EXPECT_FALSE(learner.sessions().contains(ch->sessionId));
  EXPECT_FALSE(ch->closedWith.empty()) << "the learner closes an expired session's connection";
}

TEST_F(QuorumPipelineTest, FailedMultiTellsTheLearnerWhichOpFailed) {
  auto ch = connect();
  commitAll();
  jute::Writer out;
  MultiHeader{static_cast<int>(OpCode::kCreate), false, -1}.write(out);
  CreateRequest{"/m", "", {ACL{perms::kAll, {"world", "anyone"}}}, 0, -1}.write(out, false);
  MultiHeader{static_cast<int>(OpCode::kDelete), false, -1}.write(out);
  PathVersionRequest{"/missing", -1}.write(out);
  MultiHeader{-1, true, -1}.write(out);
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(out.bytes().data()), out.size());
  learner.request(ch, ch->sessionId, RequestHeader{7, static_cast<int>(OpCode::kMulti)}, bytes);
  commitAll();
  ASSERT_EQ(ch->frames.size(), 2u);
  jute::Reader in(std::string_view(ch->frames[1]).substr(4));
  auto header = ReplyHeader::read(in);
  EXPECT_EQ(header.err, 0);
  auto first = MultiHeader::read(in);
  EXPECT_EQ(first.err, 0);
  in.readInt("err");
  auto second = MultiHeader::read(in);
  EXPECT_EQ(second.err, static_cast<int>(Err::kNoNode));
  EXPECT_EQ(learnerTree.find("/m"), nullptr) << "a failed multi changed the tree";
}

// ---- A session that moves between members (ZooKeeper's REVALIDATE and session owner) ----

TEST_F(QuorumPipelineTest, AReconnectOnALearnerIsAnsweredOnlyAfterTheLeaderRevalidates) {
  auto first = connect();
  commitAll();
  auto again = connect(first->sessionId);
  EXPECT_TRUE(again->frames.empty()) << "answered before the leader revalidated the session";
  ASSERT_EQ(revalidations, std::vector<std::int64_t>{first->sessionId});
  answerRevalidations();
  ASSERT_EQ(again->frames.size(), 1u);
  EXPECT_TRUE(again->closedWith.empty()) << again->closedWith;
  EXPECT_FALSE(first->closedWith.empty()) << "the session's old connection stays open";
}

TEST_F(QuorumPipelineTest, ASessionTheLeaderExpiredIsRefusedOnReconnect) {
  auto first = connect();
  commitAll();
  now += 5000;
  leader.tick();  // the leader proposes the close; the learner has not seen it committed
  auto again = connect(first->sessionId);
  answerRevalidations();
  ASSERT_EQ(again->frames.size(), 1u);
  jute::Reader in(std::string_view(again->frames[0]).substr(4));
  EXPECT_EQ(ConnectResponse::read(in).sessionId, 0) << "expired session accepted";
  EXPECT_NE(again->closedWith.find("expired"), std::string::npos) << again->closedWith;
}

TEST_F(QuorumPipelineTest, AReconnectWithoutAnAnswerFromTheLeaderIsClosed) {
  auto first = connect();
  commitAll();
  auto again = connect(first->sessionId);
  now += 999;
  learner.tick();
  EXPECT_TRUE(again->closedWith.empty()) << "gave up before the session timeout";
  now += 2;
  learner.tick();
  EXPECT_NE(again->closedWith.find("did not revalidate"), std::string::npos) << again->closedWith;
  leaderReachable = false;
  auto third = connect(first->sessionId);
  EXPECT_NE(third->closedWith.find("no link to the leader"), std::string::npos);
}

// Clients number their requests from 1 again on every connection. A write forwarded by the
// session's old member must not answer the new connection's request with the same xid.
TEST_F(QuorumPipelineTest, AWriteFromTheOldMemberDoesNotAnswerTheNewConnection) {
  auto onOther = connect(0, &other);
  commitAll();
  create(onOther, 1, "/moved-old", &other);
  auto onLearner = connect(onOther->sessionId);
  answerRevalidations();
  create(onLearner, 1, "/moved-new");
  commitAll();
  ASSERT_EQ(onLearner->frames.size(), 2u);
  ASSERT_EQ(leaderLog.txns.size(), 3u);
  EXPECT_EQ(onLearner->reply(0).zxid, leaderLog.txns[2].header.zxid)
      << "answered with the old connection's write";
  EXPECT_NE(learnerTree.find("/moved-old"), nullptr) << "the old write is still applied";
}

TEST_F(QuorumPipelineTest, TheLeaderDropsWhatTheOldMemberForwardsAfterTheMove) {
  auto onOther = connect(0, &other);
  commitAll();
  otherLink.holding = true;
  create(onOther, 1, "/late", &other);
  auto onLearner = connect(onOther->sessionId);
  answerRevalidations();
  otherLink.release();
  EXPECT_EQ(leaderLog.txns.size(), 1u) << "the leader logged a request from the old member";
  create(onLearner, 1, "/new");
  commitAll();
  ASSERT_EQ(onLearner->frames.size(), 2u);
  EXPECT_EQ(onLearner->reply(0).err, 0);
  EXPECT_EQ(learnerTree.find("/late"), nullptr);
}

TEST_F(QuorumPipelineTest, TheLeaderClosesItsOwnConnectionWhenTheSessionMovesAway) {
  auto onLeader = connect(0, &leader);
  commitAll();
  ASSERT_EQ(onLeader->frames.size(), 1u);
  auto onLearner = connect(onLeader->sessionId);
  answerRevalidations();
  EXPECT_NE(onLeader->closedWith.find("moved to member 2"), std::string::npos)
      << onLeader->closedWith;
  create(onLeader, 5, "/stale", &leader);
  ASSERT_EQ(onLeader->frames.size(), 2u);
  EXPECT_EQ(onLeader->reply(0).err, static_cast<int>(Err::kSessionMoved));
}

TEST_F(QuorumPipelineTest, RequestsOfTheOldConnectionOnTheSameMemberAreForgotten) {
  auto first = connect();
  commitAll();
  create(first, 1, "/one");
  send(first, 2, OpCode::kSync, PathRequest{"/"});
  EXPECT_EQ(learner.outstandingRequests(), 2u);
  auto again = connect(first->sessionId);
  answerRevalidations();
  EXPECT_EQ(learner.outstandingRequests(), 0u) << "the old connection's requests still count";
  send(again, 1, OpCode::kSync, PathRequest{"/"});
  commitAll();
  learner.syncAnswered();  // the leader answers the old connection's sync first
  EXPECT_EQ(again->frames.size(), 1u) << "the old sync's answer released the new one";
  learner.syncAnswered();
  ASSERT_EQ(again->frames.size(), 2u);
  EXPECT_EQ(again->reply(0).xid, 1);
}

TEST_F(QuorumPipelineTest, ASessionMovedErrorFromAZooKeeperLeaderAnswersNothing) {
  auto first = connect();
  commitAll();
  create(first, 1, "/mine");
  Txn moved{TxnHeader{first->sessionId, 1, leaderLog.txns.back().header.zxid + 1, now,
                      static_cast<int>(OpCode::kError)},
            ErrorTxn{static_cast<int>(Err::kSessionMoved)}};
  learner.applyCommitted(moved);
  EXPECT_EQ(first->frames.size(), 1u) << "a SESSIONMOVED error txn answered a pending write";
}

}  // namespace
}  // namespace zk
