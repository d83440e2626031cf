#include <gtest/gtest.h>

#include "jute/reader.h"
#include "jute/writer.h"
#include "protocol/opcodes.h"
#include "protocol/records.h"
#include "protocol/txn.h"

namespace zk {
namespace {

TEST(Jute, IntsAreBigEndian) {
  jute::Writer out;
  out.writeInt(0x01020304);
  out.writeLong(-2);
  EXPECT_EQ(out.bytes(), std::string("\x01\x02\x03\x04\xff\xff\xff\xff\xff\xff\xff\xfe", 12));
  jute::Reader in(out.bytes());
  EXPECT_EQ(in.readInt("a"), 0x01020304);
  EXPECT_EQ(in.readLong("b"), -2);
  EXPECT_TRUE(in.atEnd());
}

TEST(Jute, NullStringReadsEmpty) {
  jute::Writer out;
  out.writeNullBuffer();
  jute::Reader in(out.bytes());
  EXPECT_EQ(in.readBuffer("data"), "");
}

TEST(Jute, TruncatedStringNamesFieldAndOffset) {
  jute::Writer out;
  out.writeInt(100);
  out.writeRaw("abc");
  jute::Reader in(out.bytes());
  try {
    in.readString("CreateRequest.path");
    FAIL() << "expected DecodeError";
  } catch (const jute::DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("CreateRequest.path"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("offset 4"), std::string::npos);
  }
}

TEST(Jute, NegativeLengthRejected) {
  jute::Writer out;
  out.writeInt(-5);
  jute::Reader in(out.bytes());
  EXPECT_THROW(in.readString("x"), jute::DecodeError);
}

TEST(Jute, HugeVectorCountRejectedBeforeAllocating) {
  jute::Writer out;
  out.writeInt(0x7fffffff);
  jute::Reader in(out.bytes());
  EXPECT_THROW(jute::readVector<ACL>(in, "acl"), jute::DecodeError);
}

TEST(Jute, StatIs68Bytes) {
  jute::Writer out;
  Stat{}.write(out);
  EXPECT_EQ(out.size(), 68u);
}

TEST(Jute, ConnectRequestWithAndWithoutReadOnlyByte) {
  ConnectRequest req;
  req.timeOut = 30000;
  req.passwd = std::string(16, '\0');
  jute::Writer old;
  req.write(old);
  EXPECT_EQ(old.size(), 44u);
  jute::Reader in(old.bytes());
  EXPECT_FALSE(ConnectRequest::read(in).hasReadOnlyByte);
  req.hasReadOnlyByte = true;
  jute::Writer modern;
  req.write(modern);
  EXPECT_EQ(modern.size(), 45u);
}

TEST(Txn, MultiRoundTrips) {
  Txn txn;
  txn.header = {0x1234, 7, 0x100000001, 1700000000000, static_cast<int>(OpCode::kMulti)};
  MultiTxn multi;
  multi.txns.push_back({static_cast<int>(OpCode::kCreate),
                        CreateTxn{"/a", "data", {ACL{31, {"world", "anyone"}}}, false, 3}});
  multi.txns.push_back({static_cast<int>(OpCode::kSetData), SetDataTxn{"/b", "x", 2}});
  multi.txns.push_back({static_cast<int>(OpCode::kError), ErrorTxn{-101}});
  txn.body = multi;
  EXPECT_EQ(decodeTxn(encodeTxn(txn)), txn);
}

TEST(Txn, CloseSessionWithoutBodyDecodes) {
  Txn txn;
  txn.header.type = static_cast<int>(OpCode::kCloseSession);
  std::string bytes;
  jute::Writer out(bytes);
  txn.header.write(out);
  EXPECT_EQ(std::get<CloseSessionTxn>(decodeTxn(bytes).body).paths2Delete.size(), 0u);
}

}  // namespace
}  // namespace zk
