#include <gtest/gtest.h>

#include <zlib.h>

#include <random>

#include "storage/purge.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"
#include "storage_test_util.h"

namespace zk::storage {
namespace {

using namespace testing;

const LogFn kQuiet = [](std::string_view) {};

// A tree with nested persistent nodes, an ephemeral, binary data and two ACL lists.
std::int64_t buildTree(DataTree& tree, std::int64_t zxid = 1) {
  tree.apply(createTxn(zxid++, "/app", std::string("\x00\x01\xff", 3)));
  tree.apply(createTxn(zxid++, "/app/a"));
  tree.apply(createTxn(zxid++, "/app/a/deep", "deep"));
  Txn locked = createTxn(zxid++, "/locked", "secret");
  std::get<CreateTxn>(locked.body).acl = {ACL{1, Id{"digest", "u:hash"}}};
  tree.apply(locked);
  tree.apply(ephemeralTxn(zxid++, "/app/eph", 0x77));
  tree.apply(setDataTxn(zxid++, "/app/a", "changed"));
  return zxid;
}

TEST(Snapshot, RoundTripPreservesNodesAclsAndSessions) {
  TempDir dir;
  DataTree tree;
  std::int64_t next = buildTree(tree);
  SessionMap sessions{{0x77, 30000}, {0x78, 4000}};
  auto file = writeSnapshot(dir.path(), next - 1, sessions, tree);
  EXPECT_EQ(file.filename(), "snapshot." + zxidFileName("", next - 1).substr(1));
  EXPECT_TRUE(looksLikeCompleteSnapshot(file));
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));

  DataTree loaded;
  SessionMap loadedSessions;
  EXPECT_EQ(loadNewestValidSnapshot(dir.path(), loaded, loadedSessions, kQuiet).zxid, next - 1);
  EXPECT_EQ(loadedSessions, sessions);
  EXPECT_EQ(describeTree(loaded), describeTree(tree));
  EXPECT_EQ(loaded.lastProcessedZxid(), next - 1);
  ASSERT_NE(loaded.ephemeralPaths(0x77), nullptr);
  EXPECT_EQ(loaded.ephemeralPaths(0x77)->count("/app/eph"), 1u);
}

// zookeeper.snapshot.compression.method: a gzip'ed or snappy-java stream around the same
// bytes, named by its extension, found and loaded like a plain one (and a large tree crosses
// many snappy blocks and deflate buffers).
class CompressedSnapshot : public ::testing::TestWithParam<SnapshotCompression> {};

TEST_P(CompressedSnapshot, RoundTripsAndIsNamedByItsMethod) {
  TempDir dir;
  DataTree tree;
  std::int64_t next = buildTree(tree);
  for (int i = 0; i < 3000; ++i)
    tree.apply(createTxn(next++, "/app/n" + std::to_string(i), std::string(100, 'a' + i % 26)));
  SessionMap sessions{{0x77, 30000}};
  auto file = writeSnapshot(dir.path(), next - 1, sessions, tree, GetParam());
  EXPECT_EQ(file.extension(), extensionOf(GetParam()));
  EXPECT_TRUE(looksLikeCompleteSnapshot(file));
  EXPECT_LT(std::filesystem::file_size(file), 3000u * 100u) << "the data compresses";
  ASSERT_EQ(listSnapshots(dir.path() / kVersionDir).size(), 1u);

  DataTree loaded;
  SessionMap loadedSessions;
  EXPECT_EQ(loadNewestValidSnapshot(dir.path(), loaded, loadedSessions, kQuiet).zxid, next - 1);
  EXPECT_EQ(loadedSessions, sessions);
  EXPECT_EQ(describeTree(loaded), describeTree(tree));
}

// A damaged compressed snapshot is refused with the file and the offset, and the older plain
// one beside it is used instead.
TEST_P(CompressedSnapshot, DamageIsNamedAndAnOlderOneIsUsed) {
  TempDir dir;
  DataTree tree;
  std::int64_t next = buildTree(tree);
  writeSnapshot(dir.path(), next - 1, {}, tree);
  tree.apply(createTxn(next, "/newer"));
  auto file = writeSnapshot(dir.path(), next, {}, tree, GetParam());
  auto size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size - 7);

  std::vector<std::string> lines;
  DataTree loaded;
  SessionMap loadedSessions;
  EXPECT_EQ(loadNewestValidSnapshot(dir.path(), loaded, loadedSessions,
                                    [&](std::string_view l) { lines.emplace_back(l); })
                .zxid,
            next - 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(file.string()), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("offset"), std::string::npos) << lines[0];
}

std::string compress(std::string_view plain, SnapshotCompression how) {
  SnapshotCompressor compressor(how);
  std::string stored = compressor.add(plain);
  return stored + compressor.finish();
}

std::span<const std::uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// What loading gives: the tree and sessions, or the error (its offsets included).
std::string loadOutcome(SnapshotBytes& bytes) {
  DataTree tree;
  SessionMap sessions;
  try {
    loadSnapshot(bytes, tree, sessions);
  } catch (const StorageError& e) {
    return std::string("error: ") + e.what();
  }
  std::string out = "sessions " + std::to_string(sessions.size());
  for (const std::string& node : describeTree(tree)) out += "\n" + node;
  return out;
}

// A compressed snapshot is decompressed into the decoder a window at a time, never whole (as
// ZooKeeper streams it): loading 6 MiB of plain bytes holds at most a few windows of them.
TEST_P(CompressedSnapshot, LoadsThroughABoundedWindow) {
  DataTree tree;
  std::int64_t next = buildTree(tree);
  for (int i = 0; i < 6000; ++i)
    tree.apply(createTxn(next++, "/app/n" + std::to_string(i), std::string(1000, 'a' + i % 26)));
  TempDir dir;
  std::string plain = readAll(writeSnapshot(dir.path(), next - 1, {{0x77, 30000}}, tree));
  ASSERT_GT(plain.size(), 6u << 20);
  std::string stored = compress(plain, GetParam());

  SnapshotDecompressor decompressor(bytesOf(stored), GetParam());
  SnapshotBytes bytes(decompressor, 64 * 1024);
  DataTree loaded;
  SessionMap sessions;
  loadSnapshot(bytes, loaded, sessions);
  EXPECT_EQ(describeTree(loaded), describeTree(tree));
  EXPECT_LE(bytes.largestWindow(), 4u * 64 * 1024) << "of " << plain.size() << " plain bytes";
}

// However the plain bytes are cut into windows (a record split anywhere, a record longer than
// the window), loading gives what loading them whole gives: the same tree, or the same error
// naming the same offset, for a valid snapshot and for damaged ones.
TEST_P(CompressedSnapshot, AnyWindowLoadsAsTheWholeBytesDo) {
  DataTree tree;
  std::int64_t next = buildTree(tree);
  tree.apply(createTxn(next++, "/app/big", std::string(5000, 'b')));
  TempDir dir;
  std::string plain = readAll(writeSnapshot(dir.path(), next - 1, {{0x77, 30000}}, tree));
  std::vector<std::string> cases{plain, plain.substr(0, plain.size() - 3), plain + "xyz"};
  for (std::size_t at : {std::size_t{2}, std::size_t{20}, plain.size() / 2, plain.size() - 9}) {
    std::string bad = plain;
    bad[at] ^= 0x40;
    cases.push_back(bad);
  }
  for (const std::string& c : cases) {
    SnapshotBytes whole(bytesOf(c));
    const std::string expected = loadOutcome(whole);
    std::string stored = compress(c, GetParam());
    for (std::size_t window : {1, 7, 100, 4096}) {
      SnapshotDecompressor decompressor(bytesOf(stored), GetParam());
      SnapshotBytes pulled(decompressor, window);
      EXPECT_EQ(loadOutcome(pulled), expected) << "window " << window;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, CompressedSnapshot,
                         ::testing::Values(SnapshotCompression::kGzip,
                                           SnapshotCompression::kSnappy),
                         [](const auto& info) {
                           return info.param == SnapshotCompression::kGzip ? "gz" : "snappy";
                         });

TEST(SnapshotNames, ZooKeepersNamesAndNoOthers) {
  EXPECT_EQ(snapshotZxidOfName("snapshot.1a"), 0x1a);
  EXPECT_EQ(snapshotZxidOfName("snapshot.1a.gz"), 0x1a);
  EXPECT_EQ(snapshotZxidOfName("snapshot.1a.snappy"), 0x1a);
  EXPECT_EQ(snapshotZxidOfName("snapshot.1a.tmp"), std::nullopt);
  EXPECT_EQ(snapshotZxidOfName("snapshot.1a.gz.tmp"), std::nullopt);
  EXPECT_EQ(snapshotZxidOfName("snapshot.gz"), std::nullopt);
  EXPECT_EQ(compressionNamed("GZ"), SnapshotCompression::kGzip);
  EXPECT_EQ(compressionNamed("Snappy"), SnapshotCompression::kSnappy);
  EXPECT_EQ(compressionNamed(""), SnapshotCompression::kNone);
  EXPECT_EQ(compressionNamed("lz4"), std::nullopt);
}

TEST(Snapshot, ReadsZooKeeperTrailersAndChecksEverySeal) {
  SnapshotEncoder enc;
  enc.header();
  enc.sessions({{5, 6000}});
  enc.acls({});
  enc.node("", "", -1, StatPersisted{});
  enc.endNodes();
  enc.seal();
  std::string bytes = enc.take();
  const std::size_t plain = bytes.size();
  auto parse = [](const std::string& b, SnapshotTrailer* t = nullptr) {
    SessionMap s;
    SnapshotSink sink{[](std::int64_t, AclList) {},
                      [](std::string_view, std::optional<std::string_view>, std::int64_t,
                         const StatPersisted&) {}};
    auto span = std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    SnapshotTrailer r = parseSnapshot(span, s, sink);
    if (t != nullptr) *t = r;
    return s;
  };
  EXPECT_EQ(parse(bytes).at(5), 6000);

  // Hand-build the trailers: each seal is the Adler32 of everything before it.
  auto sealed = [](std::string b, auto&& body) {
    jute::Writer w(b);
    body(w);
    std::uint32_t a = adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(b.data()),
                              static_cast<uInt>(b.size()));
    w.writeLong(a);
    w.writeString("/");
    return b;
  };
  std::string withDigest = sealed(bytes, [](jute::Writer& w) {
    w.writeLong(0x42);
    w.writeInt(2);
    w.writeLong(123456789);
  });
  std::string withBoth = sealed(withDigest, [](jute::Writer& w) { w.writeLong(0x42); });
  SnapshotTrailer t;
  parse(withBoth, &t);
  EXPECT_EQ(t.digestZxid, 0x42);
  EXPECT_EQ(t.digest, 123456789);
  EXPECT_EQ(t.lastProcessedZxid, 0x42);

  std::string badSeal = withBoth;
  badSeal[plain + 25] ^= 1;  // inside the digest section's seal checksum
  EXPECT_THROW(parse(badSeal), StorageError);
  std::string badBody = bytes;
  badBody[20] ^= 1;  // session id
  EXPECT_THROW(parse(badBody), StorageError);
  EXPECT_THROW(parse(bytes.substr(0, plain - 3)), StorageError);
}

// Past a few MiB the first seal's checksum is summed on another thread while the nodes are
// parsed: it must still catch a flipped byte anywhere, and accept every trailer layout.
TEST(Snapshot, LargeSnapshotChecksumCatchesAFlippedByteAnywhere) {
  SnapshotEncoder enc;
  enc.header();
  enc.sessions({});
  enc.acls({});
  enc.node("", "", -1, StatPersisted{});
  enc.node("/big", "", -1, StatPersisted{});
  const std::string value(1000, 'v');
  for (int i = 0; i < 6000; ++i) enc.node("/big/n" + std::to_string(i), value, -1, StatPersisted{});
  enc.endNodes();
  enc.seal();
  std::string bytes = enc.take();
  ASSERT_GT(bytes.size(), 5u << 20);
  std::size_t nodes = 0;
  auto parse = [&nodes](const std::string& b) {
    SessionMap s;
    nodes = 0;
    SnapshotSink sink{[](std::int64_t, AclList) {},
                      [&nodes](std::string_view, std::optional<std::string_view>, std::int64_t,
                               const StatPersisted&) { ++nodes; }};
    parseSnapshot(std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()), s, sink);
  };
  parse(bytes);
  EXPECT_EQ(nodes, 6002u);
  for (std::size_t at : {std::size_t{30}, bytes.size() / 2, bytes.size() - 40, bytes.size() - 20}) {
    std::string bad = bytes;
    bad[at] ^= 0x10;
    EXPECT_THROW(parse(bad), StorageError) << "flipped byte at " << at << " of " << bytes.size();
  }
  // A seal followed by the longest tail: digest and lastProcessedZxid sections, each sealed.
  std::string tail = bytes;
  jute::Writer w(tail);
  auto seal = [&tail, &w] {
    w.writeLong(adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(tail.data()),
                        static_cast<uInt>(tail.size())));
    w.writeString("/");
  };
  w.writeLong(7);
  w.writeInt(2);
  w.writeLong(99);
  seal();
  w.writeLong(7);
  seal();
  parse(tail);
  EXPECT_EQ(nodes, 6002u);
}

// Writes go on between chunks; loading the snapshot and replaying the txns logged after its
// start zxid must give exactly the live tree (ZooKeeper's fuzzy snapshot contract).
TEST(Snapshot, FuzzySnapshotPlusReplayEqualsLiveTree) {
  TempDir dir;
  DataTree live;
  std::int64_t zxid = 1;
  for (int i = 0; i < 60; ++i) {
    live.apply(createTxn(zxid++, "/n" + std::to_string(i)));
    live.apply(createTxn(zxid++, "/n" + std::to_string(i) + "/c"));
  }
  const std::int64_t start = zxid - 1;
  SnapshotOptions options;
  options.dataDir = dir.path();
  options.log = kQuiet;
  SnapshotWriter writer(options, start, {}, live);
  std::vector<Txn> later;
  std::mt19937 rng(7);
  auto applyLogged = [&](Txn t) {
    live.apply(t);
    later.push_back(std::move(t));
  };
  int round = 0;
  while (!writer.writeChunk(live, 7)) {
    int i = static_cast<int>(rng() % 60);
    std::string n = "/n" + std::to_string(i);
    switch (round++ % 4) {
      case 0:
        applyLogged(setDataTxn(zxid++, n + "/c", "v" + std::to_string(round)));
        break;
      case 1:
        applyLogged(deleteTxn(zxid++, n + "/c"));
        applyLogged(createTxn(zxid++, n + "/c", "again"));
        break;
      case 2:
        applyLogged(createTxn(zxid++, n + "/x" + std::to_string(round)));
        break;
      default:
        applyLogged(createTxn(zxid++, "/a" + std::to_string(round)));  // before the cursor
    }
  }
  applyLogged(setDataTxn(zxid++, "/n3", "after the last chunk"));
  writer.finish();

  DataTree restored;
  SessionMap sessions;
  ASSERT_EQ(loadNewestValidSnapshot(dir.path(), restored, sessions, kQuiet).zxid, start);
  for (const Txn& t : later) restored.apply(t);
  EXPECT_EQ(describeTree(restored), describeTree(live));
  EXPECT_GT(later.size(), 10u);
}

TEST(Snapshot, AbandonedSnapshotLeavesNoFile) {
  TempDir dir;
  DataTree tree;
  {
    SnapshotOptions options;
    options.dataDir = dir.path();
    SnapshotWriter writer(options, 5, {}, tree);
    writer.writeChunk(tree, 1);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / "version-2"));
}

TEST(Snapshot, InvalidNewestFallsBackToOlder) {
  TempDir dir;
  DataTree tree;
  std::int64_t next = buildTree(tree);
  writeSnapshot(dir.path(), 0x10, {{1, 5000}}, tree);
  tree.apply(createTxn(next, "/newer"));
  auto newest = writeSnapshot(dir.path(), 0x20, {}, tree);
  auto third = writeSnapshot(dir.path(), 0x30, {}, tree);

  std::string bytes = readAll(newest);
  bytes[bytes.size() / 2] ^= 0x10;  // flipped bit: the seal still looks right, the checksum not
  writeAll(newest, bytes);
  writeAll(third, readAll(third).substr(0, 100));  // truncated: no seal at the end
  DataTree loaded;
  SessionMap sessions;
  std::vector<std::string> logged;
  EXPECT_EQ(loadNewestValidSnapshot(dir.path(), loaded, sessions,
                                    [&](std::string_view l) { logged.emplace_back(l); })
                .zxid,
            0x10);
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_EQ(loaded.find("/newer"), nullptr);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("snapshot.30"), std::string::npos);
  EXPECT_NE(logged[1].find("snapshot.20"), std::string::npos);

  std::filesystem::remove(dir.path() / "version-2" / "snapshot.10");
  EXPECT_THROW(loadNewestValidSnapshot(dir.path(), loaded, sessions, kQuiet), StorageError);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string refusalOf(const std::filesystem::path& dataDir) {
  DataTree loaded;
  SessionMap sessions;
  try {
    loadNewestValidSnapshot(dataDir, loaded, sessions, kQuiet);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "(loaded)";
}

// The one message a refused start prints names the newest snapshot and where it went wrong.
TEST(Snapshot, RefusalNamesTheFileAndTheOffset) {
  TempDir dir;
  DataTree tree;
  buildTree(tree);
  auto file = writeSnapshot(dir.path(), 0x10, {}, tree);
  const std::string good = readAll(file);

  writeAll(file, good.substr(0, good.size() - 7));
  EXPECT_PRED2(contains, refusalOf(dir.path()),
               file.string() + ": cut off at offset " + std::to_string(good.size() - 7));

  writeAll(file, "XXXX" + good.substr(4));
  EXPECT_PRED2(contains, refusalOf(dir.path()),
               file.string() + ": not a snapshot (bad magic number at offset 0)");

  std::string badSeal = good;
  const std::size_t seal = good.size() - 13;  // long checksum, then the string "/"
  badSeal[seal + 7] ^= 0x10;
  writeAll(file, badSeal);
  EXPECT_PRED2(contains, refusalOf(dir.path()),
               file.string() + ": snapshot seal at offset " + std::to_string(seal));
}

// A node the tree cannot take (its parent is missing) is reported at its record's offset.
TEST(Snapshot, AnOrphanNodeIsRefusedAtItsOffset) {
  SnapshotEncoder encoder;
  encoder.header();
  encoder.sessions({});
  encoder.acls({});
  encoder.node("", "", -1, StatPersisted{});
  const std::size_t orphanAt = encoder.buffered();
  encoder.node("/missing/child", "", -1, StatPersisted{});
  encoder.endNodes();
  encoder.seal();
  std::string bytes = encoder.take();
  DataTree tree;
  SessionMap sessions;
  try {
    loadSnapshotBytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, tree,
                      sessions);
    FAIL() << "an orphan node was accepted";
  } catch (const StorageError& e) {
    EXPECT_PRED2(contains, e.what(), "node at offset " + std::to_string(orphanAt));
  }
}

TEST(Purge, KeepsNewestSnapshotsAndTheLogsToReplayThem) {
  TempDir data;
  TempDir logs;
  DataTree tree;
  for (std::int64_t z : {0x10, 0x20, 0x30, 0x40, 0x50}) writeSnapshot(data.path(), z, {}, tree);
  writeAll(data.path() / "version-2" / "snapshot.60", "torn");  // invalid: not counted
  auto logDir = logs.path() / "version-2";
  std::filesystem::create_directories(logDir);
  for (const char* name : {"log.1", "log.15", "log.25", "log.45", "log.55"}) {
    writeAll(logDir / name, logFileHeader(0));
  }
  EXPECT_THROW(purgeOldFiles(data.path(), logs.path(), 2), std::invalid_argument);
  PurgeResult r = purgeOldFiles(data.path(), logs.path(), 3);
  EXPECT_EQ(r.deleted.size(), 4u);
  auto v2 = data.path() / "version-2";
  for (const char* gone : {"snapshot.10", "snapshot.20"})
    EXPECT_FALSE(std::filesystem::exists(v2 / gone));
  for (const char* kept : {"snapshot.30", "snapshot.40", "snapshot.50", "snapshot.60"}) {
    EXPECT_TRUE(std::filesystem::exists(v2 / kept)) << kept;
  }
  for (const char* gone : {"log.1", "log.15"}) EXPECT_FALSE(std::filesystem::exists(logDir / gone));
  // log.25 may hold txns after snapshot.30, so it stays.
  for (const char* kept : {"log.25", "log.45", "log.55"}) {
    EXPECT_TRUE(std::filesystem::exists(logDir / kept)) << kept;
  }
  EXPECT_TRUE(purgeOldFiles(data.path(), logs.path(), 3).deleted.empty());
}

}  // namespace
}  // namespace zk::storage
