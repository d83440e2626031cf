#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "storage/snapshot.h"
#include "storage/snapshot_stream.h"
#include "storage_test_util.h"

namespace zk::storage {
namespace {

using namespace testing;
using Scanner = SnapshotStreamScanner;

DataTree sampleTree() {
  DataTree tree;
  std::int64_t zxid = 1;
  tree.apply(createTxn(zxid++, "/app", std::string("\x00\x01\xff", 3)));
  tree.apply(createTxn(zxid++, "/app/a", std::string(5000, 'x')));
  Txn locked = createTxn(zxid++, "/locked", "secret");
  std::get<CreateTxn>(locked.body).acl = {ACL{1, Id{"digest", "u:hash"}}};
  tree.apply(locked);
  tree.apply(ephemeralTxn(zxid++, "/app/eph", 0x77));
  return tree;
}

// Loads snapshot file bytes the way a learner does, through the file loader.
std::map<std::string, std::string> loadedNodes(const std::string& fileBytes, SessionMap& sessions) {
  std::map<std::string, std::string> nodes;
  SnapshotSink sink;
  sink.acl = [](std::int64_t, AclList) {};
  sink.node = [&](std::string_view path, std::optional<std::string_view> data, std::int64_t,
                  const StatPersisted&) { nodes[std::string(path)] = data.value_or(""); };
  auto* p = reinterpret_cast<const std::uint8_t*>(fileBytes.data());
  parseSnapshot(std::span(p, fileBytes.size()), sessions, sink);
  return nodes;
}

TEST(SnapshotStream, EndsWithZooKeepersSignatureAndNoFileHeader) {
  std::string stream = encodeSnapshotStream({{0x77, 4000}}, sampleTree());
  EXPECT_TRUE(stream.ends_with(std::string("\0\0\0\x0a", 4) + "BenWasHere"));
  EXPECT_NE(stream.substr(0, 4), "ZKSN");
}

TEST(SnapshotStream, ScannedInAnySplitItBecomesALoadableSnapshot) {
  DataTree tree = sampleTree();
  SessionMap sessions{{0x77, 4000}, {0x78, 9000}};
  std::string next = "\x01\x02\x03 the packets that follow";
  std::string wire = encodeSnapshotStream(sessions, tree) + next;
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    Scanner scanner;
    Scanner::Result result = Scanner::NeedMore{};
    std::size_t at = 0;
    std::string records;
    while (std::holds_alternative<Scanner::NeedMore>(result)) {
      ASSERT_LT(at, wire.size()) << "the stream never ended";
      std::size_t n = std::min<std::size_t>(wire.size() - at, 1 + rng() % 700);
      result = scanner.feed(std::string_view(wire).substr(at, n));
      records += scanner.takeRecords();
      at += n;
    }
    auto* done = std::get_if<Scanner::Done>(&result);
    ASSERT_NE(done, nullptr);
    // Whatever came after the signature in the last read is handed back, nothing is lost.
    EXPECT_EQ(done->leftover + wire.substr(at), next);
    SessionMap loaded;
    auto nodes = loadedNodes(sealedSnapshotFile(records), loaded);
    EXPECT_EQ(loaded, sessions);
    EXPECT_EQ(nodes.at("/app/a"), std::string(5000, 'x'));
    EXPECT_EQ(nodes.size(), tree.nodeCount());
  }
}

// The leader encodes a chunk per event-loop turn while writes go on; what it sends in chunks
// of an unchanged tree is the stream it would send at once.
TEST(SnapshotStream, EncodedInChunksItIsTheSameStream) {
  DataTree tree = sampleTree();
  SessionMap sessions{{0x77, 4000}};
  SnapshotStreamEncoder encoder(sessions, tree);
  std::string chunked;
  int chunks = 0;
  while (!encoder.done()) {
    chunked += encoder.nextChunk(tree, 1);
    ++chunks;
  }
  EXPECT_EQ(chunked, encodeSnapshotStream(sessions, tree));
  EXPECT_GT(chunks, 2);
  EXPECT_EQ(encoder.nodes(), tree.nodeCount());
}

// The learner writes the records to disk as they arrive; the file is the snapshot the loader
// reads, sealed, with nothing of the stream kept in memory.
TEST(SnapshotStream, SpooledRecordsMakeALoadableSnapshotFile) {
  DataTree tree = sampleTree();
  SessionMap sessions{{0x79, 6000}};
  std::string wire = encodeSnapshotStream(sessions, tree);
  auto path = std::filesystem::temp_directory_path() /
              ("spool-test-" + std::to_string(::getpid()) + ".snap");
  SnapshotSpool spool(path);
  Scanner scanner;
  for (std::size_t at = 0; at < wire.size(); at += 97) {
    scanner.feed(std::string_view(wire).substr(at, 97));
    spool.append(scanner.takeRecords());
  }
  spool.finish();
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  EXPECT_EQ(spool.bytes(), file.size());
  SessionMap loaded;
  auto nodes = loadedNodes(file, loaded);
  EXPECT_EQ(loaded, sessions);
  EXPECT_EQ(nodes.size(), tree.nodeCount());
}

// A stream cut off mid-way (the leader's link dropped) leaves no file behind; a finished one
// stays for the loader.
TEST(SnapshotStream, AnUnfinishedSpoolRemovesItsFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("spool-cut-test-" + std::to_string(::getpid()) + ".snap");
  {
    SnapshotSpool spool(path);
    spool.append(encodeSnapshotStream({}, sampleTree()).substr(0, 40));
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    SnapshotSpool spool(path);
    spool.finish();
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST(SnapshotStream, AWrongSignatureOrANegativeCountIsMalformed) {
  std::string stream = encodeSnapshotStream({}, sampleTree());
  std::string forged = stream.substr(0, stream.size() - 10) + "BenWasGone";
  auto bad = Scanner().feed(forged);
  ASSERT_TRUE(std::holds_alternative<Scanner::Malformed>(bad));
  EXPECT_NE(std::get<Scanner::Malformed>(bad).reason.find("BenWasGone"), std::string::npos);
  auto negative = Scanner().feed(std::string("\xff\xff\xff\xfe", 4));
  ASSERT_TRUE(std::holds_alternative<Scanner::Malformed>(negative));
  EXPECT_NE(std::get<Scanner::Malformed>(negative).reason.find("session count"), std::string::npos);
}

// A length no more bytes can make valid (below -1) ends the stream at once: waiting for more
// would buffer the leader's whole stream, up to the limit, for nothing.
TEST(SnapshotStream, ANegativeLengthInsideARecordIsMalformedAtOnce) {
  std::string stream("\0\0\0\0\0\0\0\0", 8);     // no sessions, no ACLs
  stream += std::string("\xff\xff\xff\xfb", 4);  // a node path of length -5
  auto result = Scanner().feed(stream);
  ASSERT_TRUE(std::holds_alternative<Scanner::Malformed>(result));
  EXPECT_NE(std::get<Scanner::Malformed>(result).reason.find("bad length -5"), std::string::npos);
  // An ACL list with a negative count likewise.
  std::string acl("\0\0\0\0\0\0\0\x01", 8);  // no sessions, one ACL list
  acl += std::string(8, '\0') + std::string("\xff\xff\xff\xf0", 4);
  EXPECT_TRUE(std::holds_alternative<Scanner::Malformed>(Scanner().feed(acl)));
}

TEST(SnapshotStream, AStreamThatNeverEndsIsCutAtTheLimit) {
  Scanner scanner(1000);
  std::string huge("\0\0\0\0\0\0\0\0", 8);                  // no sessions, no ACLs
  huge += std::string("\0\0\0\x02/x\x7f\xff\xff\xff", 10);  // a node claiming 2 GiB of data
  EXPECT_TRUE(std::holds_alternative<Scanner::NeedMore>(scanner.feed(huge)));
  auto result = scanner.feed(std::string(2000, 'z'));
  ASSERT_TRUE(std::holds_alternative<Scanner::Malformed>(result));
}

}  // namespace
}  // namespace zk::storage
