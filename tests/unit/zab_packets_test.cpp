#include <gtest/gtest.h>

#include <string>

#include "zab/packets.h"

namespace zk::zab {
namespace {

QuorumPacket sample() {
  QuorumPacket p = makePacket(PacketType::Proposal, 0x100000007, std::string("txn\0bytes", 9));
  p.authinfo = {Id{"digest", "bob:hash"}, Id{"ip", "127.0.0.1"}};
  return p;
}

TEST(ZabPackets, QuorumPacketLayoutIsJuteWithoutOuterLength) {
  std::string wire = encodePacket(makePacket(PacketType::Ack, 0x200000001));
  // int type, long zxid, buffer (int length 0), vector authinfo (null = -1)
  ASSERT_EQ(wire.size(), 4u + 8u + 4u + 4u);
  EXPECT_EQ(wire.substr(0, 4), std::string("\0\0\0\3", 4));
  EXPECT_EQ(wire.substr(4, 8), std::string("\0\0\0\2\0\0\0\1", 8));
  EXPECT_EQ(wire.substr(16, 4), std::string("\xff\xff\xff\xff", 4));
}

TEST(ZabPackets, RoundTripThroughTheIncrementalDecoder) {
  QuorumPacket p = sample();
  std::string wire = encodePacket(p) + encodePacket(makePacket(PacketType::Ping, 5));
  PacketDecoder d;
  std::vector<QuorumPacket> got;
  for (char c : wire) {  // one byte at a time: every prefix must say "need more", never fail
    d.feed(std::string(1, c));
    for (;;) {
      auto r = d.next();
      ASSERT_FALSE(std::holds_alternative<Malformed>(r));
      if (std::holds_alternative<NeedMore>(r)) break;
      got.push_back(std::get<QuorumPacket>(r));
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], p);
  EXPECT_TRUE(isType(got[1], PacketType::Ping));
  EXPECT_EQ(got[1].zxid, 5);
}

TEST(ZabPackets, NullDataDecodesAsEmpty) {
  std::string wire("\0\0\0\x0c\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 20);
  PacketDecoder d;
  d.feed(wire);
  auto r = d.next();
  ASSERT_TRUE(std::holds_alternative<QuorumPacket>(r));
  EXPECT_TRUE(std::get<QuorumPacket>(r).data.empty());
  EXPECT_TRUE(isType(std::get<QuorumPacket>(r), PacketType::UpToDate));
}

TEST(ZabPackets, LyingLengthsAreMalformedNotThrown) {
  auto malformed = [](std::string wire, std::size_t max = 1024) {
    PacketDecoder d(max);
    d.feed(wire);
    return std::holds_alternative<Malformed>(d.next());
  };
  std::string head("\0\0\0\2\0\0\0\0\0\0\0\1", 12);
  EXPECT_TRUE(malformed(head + std::string("\xff\xff\xff\xfe", 4)));          // data length -2
  EXPECT_TRUE(malformed(head + std::string("\0\0\x10\0", 4)));                // 4096 > max 1024
  EXPECT_TRUE(malformed(head + std::string("\0\0\0\0\xff\xff\xff\xf0", 8)));  // authinfo -16
  EXPECT_TRUE(malformed(head + std::string("\0\0\0\0\0\0\0\1\xff\xff\xff\xf0", 12)));
  PacketDecoder d;
  d.feed(head + std::string("\0\0\0\x08", 4) + "abc");  // 8 data bytes promised, 3 present
  EXPECT_TRUE(std::holds_alternative<NeedMore>(d.next()));
}

TEST(ZabPackets, LearnerInfoAndIntPayloads) {
  LearnerInfo info{7, 0x10000, 0x300000000};
  auto back = decodeLearnerInfo(encodeLearnerInfo(info));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->serverId, 7);
  EXPECT_EQ(back->protocolVersion, 0x10000);
  EXPECT_EQ(back->configVersion, 0x300000000);
  EXPECT_EQ(encodeLearnerInfo(info).size(), 20u);
  EXPECT_FALSE(decodeLearnerInfo("abc"));
  EXPECT_EQ(decodeInt(encodeInt(-1)), -1);
  EXPECT_FALSE(decodeInt("ab"));
}

TEST(ZabPackets, NotificationVersion2Layout) {
  Notification n{ServerState::Leading, 3, 0x500000002, 9, 5, 0x2, "server.1=a:1:2"};
  std::string wire = encodeNotification(n);
  EXPECT_EQ(wire.size(), 44u + n.config.size());
  EXPECT_EQ(wire.substr(0, 4), std::string("\0\0\0\2", 4));
  auto back = decodeNotification(wire);
  ASSERT_TRUE(std::holds_alternative<Notification>(back));
  EXPECT_EQ(std::get<Notification>(back), n);
}

TEST(ZabPackets, OlderNotificationLayoutsAndGarbage) {
  Notification n{ServerState::Following, 2, 0x700000001, 4, 7, 0x2, ""};
  std::string full = encodeNotification(n);
  auto old28 = decodeNotification(full.substr(0, 28));
  ASSERT_TRUE(std::holds_alternative<Notification>(old28));
  EXPECT_EQ(std::get<Notification>(old28).peerEpoch, 7);  // taken from the zxid's high half
  std::string v1wire = full.substr(0, 40);
  v1wire[39] = 1;  // a version-1 sender stops after the version field
  auto v1 = decodeNotification(v1wire);
  ASSERT_TRUE(std::holds_alternative<Notification>(v1));
  EXPECT_EQ(std::get<Notification>(v1).peerEpoch, 7);
  EXPECT_TRUE(std::holds_alternative<Malformed>(decodeNotification(full.substr(0, 27))));
  std::string badState = full;
  badState[3] = 9;
  EXPECT_TRUE(std::holds_alternative<Malformed>(decodeNotification(badState)));
  std::string lyingConfig = full;
  lyingConfig[43] = 100;  // config length 100 with no config bytes
  EXPECT_TRUE(std::holds_alternative<Malformed>(decodeNotification(lyingConfig)));
}

TEST(ZabPackets, ElectionStreamInitialMessageThenFrames) {
  std::string wire = encodeInitialMessage({5, "127.0.0.1:3888"}) +
                     frameElectionMessage(encodeNotification({})) + frameElectionMessage("xy");
  EXPECT_EQ(wire.substr(0, 8), std::string("\xff\xff\xff\xff\xff\xff\0\0", 8));  // -65536
  ElectionStreamDecoder d;
  d.feed(wire.substr(0, 10));
  EXPECT_TRUE(std::holds_alternative<NeedMore>(d.next()));
  d.feed(wire.substr(10));
  auto first = d.next();
  ASSERT_TRUE(std::holds_alternative<InitialMessage>(first));
  EXPECT_EQ(std::get<InitialMessage>(first).sid, 5);
  EXPECT_EQ(std::get<InitialMessage>(first).address, "127.0.0.1:3888");
  auto second = d.next();
  ASSERT_TRUE(std::holds_alternative<std::string>(second));
  EXPECT_TRUE(
      std::holds_alternative<Notification>(decodeNotification(std::get<std::string>(second))));
  auto third = d.next();
  ASSERT_TRUE(std::holds_alternative<std::string>(third));
  EXPECT_EQ(std::get<std::string>(third), "xy");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(d.next()));
}

TEST(ZabPackets, ElectionStreamRejectsBadFramesAndAcceptsOldPeers) {
  ElectionStreamDecoder old;
  old.feed(std::string("\0\0\0\0\0\0\0\x04", 8));  // a pre-3.5 peer sends only its sid
  auto m = old.next();
  ASSERT_TRUE(std::holds_alternative<InitialMessage>(m));
  EXPECT_EQ(std::get<InitialMessage>(m).sid, 4);
  old.feed(std::string("\x7f\0\0\0", 4));  // frame length far above 512 KiB
  EXPECT_TRUE(std::holds_alternative<Malformed>(old.next()));
  ElectionStreamDecoder bad;
  bad.feed(std::string("\xff\xff\xff\xff\xff\xff\xff\0", 8));  // version -256
  EXPECT_TRUE(std::holds_alternative<Malformed>(bad.next()));
}

}  // namespace
}  // namespace zk::zab
