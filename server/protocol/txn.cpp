#include "protocol/txn.h"

#include "protocol/opcodes.h"

namespace zk {
namespace {

struct BodyWriter {
  jute::Writer& out;
  void operator()(const std::monostate&) const {}
  void operator()(const CreateTxn& t) const {
    out.writeString(t.path);
    out.writeNullableBuffer(t.data);
    jute::writeVector(out, t.acl);
    out.writeBool(t.ephemeral);
    out.writeInt(t.parentCVersion);
  }
  void operator()(const CreateContainerTxn& t) const {
    out.writeString(t.path);
    out.writeNullableBuffer(t.data);
    jute::writeVector(out, t.acl);
    out.writeInt(t.parentCVersion);
  }
  void operator()(const CreateTTLTxn& t) const {
    out.writeString(t.path);
    out.writeNullableBuffer(t.data);
    jute::writeVector(out, t.acl);
    out.writeInt(t.parentCVersion);
    out.writeLong(t.ttl);
  }
  void operator()(const DeleteTxn& t) const { out.writeString(t.path); }
  void operator()(const SetDataTxn& t) const {
    out.writeString(t.path);
    out.writeNullableBuffer(t.data);
    out.writeInt(t.version);
  }
  void operator()(const CheckVersionTxn& t) const {
    out.writeString(t.path);
    out.writeInt(t.version);
  }
  void operator()(const SetACLTxn& t) const {
    out.writeString(t.path);
    jute::writeVector(out, t.acl);
    out.writeInt(t.version);
  }
  void operator()(const CreateSessionTxn& t) const { out.writeInt(t.timeOut); }
  void operator()(const CloseSessionTxn& t) const { jute::writeStringVector(out, t.paths2Delete); }
  void operator()(const ErrorTxn& t) const { out.writeInt(t.err); }
  void operator()(const MultiTxn& t) const {
    out.writeInt(static_cast<std::int32_t>(t.txns.size()));
    for (const auto& sub : t.txns) {
      out.writeInt(sub.type);
      // Txn{type, buffer data}: each sub-record is length-prefixed.
      std::string inner;
      jute::Writer innerOut(inner);
      std::visit(BodyWriter{innerOut}, sub.body);
      out.writeBuffer(inner);
    }
  }
};

CreateTxn readCreate(jute::Reader& in) {
  CreateTxn t;
  t.path = in.readString("CreateTxn.path");
  t.data = in.readNullableBuffer("CreateTxn.data");
  t.acl = jute::readVector<ACL>(in, "CreateTxn.acl");
  t.ephemeral = in.readBool("CreateTxn.ephemeral");
  t.parentCVersion = in.readInt("CreateTxn.parentCVersion");
  return t;
}

CreateContainerTxn readCreateContainer(jute::Reader& in) {
  CreateContainerTxn t;
  t.path = in.readString("CreateContainerTxn.path");
  t.data = in.readNullableBuffer("CreateContainerTxn.data");
  t.acl = jute::readVector<ACL>(in, "CreateContainerTxn.acl");
  t.parentCVersion = in.readInt("CreateContainerTxn.parentCVersion");
  return t;
}

CreateTTLTxn readCreateTTL(jute::Reader& in) {
  CreateTTLTxn t;
  t.path = in.readString("CreateTTLTxn.path");
  t.data = in.readNullableBuffer("CreateTTLTxn.data");
  t.acl = jute::readVector<ACL>(in, "CreateTTLTxn.acl");
  t.parentCVersion = in.readInt("CreateTTLTxn.parentCVersion");
  t.ttl = in.readLong("CreateTTLTxn.ttl");
  return t;
}

SubTxnBody readSubBody(jute::Reader& in, std::int32_t type) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
      return readCreate(in);
    case OpCode::kCreateContainer:
      return readCreateContainer(in);
    case OpCode::kCreateTTL:
      return readCreateTTL(in);
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      return DeleteTxn{in.readString("DeleteTxn.path")};
    case OpCode::kSetData:
    case OpCode::kReconfig: {  // ZooKeeper logs a reconfig as a SetDataTxn of /zookeeper/config
      SetDataTxn t;
      t.path = in.readString("SetDataTxn.path");
      t.data = in.readNullableBuffer("SetDataTxn.data");
      t.version = in.readInt("SetDataTxn.version");
      return t;
    }
    case OpCode::kCheck: {
      CheckVersionTxn t;
      t.path = in.readString("CheckVersionTxn.path");
      t.version = in.readInt("CheckVersionTxn.version");
      return t;
    }
    case OpCode::kSetACL: {
      SetACLTxn t;
      t.path = in.readString("SetACLTxn.path");
      t.acl = jute::readVector<ACL>(in, "SetACLTxn.acl");
      t.version = in.readInt("SetACLTxn.version");
      return t;
    }
    case OpCode::kError:
      return ErrorTxn{in.readInt("ErrorTxn.err")};
    default:
      throw jute::DecodeError("unknown sub-transaction type " + std::to_string(type) +
                              " inside a multi transaction");
  }
}

template <typename Variant>
struct Widen {
  template <typename T>
  Variant operator()(T&& v) const {
    return Variant(std::forward<T>(v));
  }
};

}  // namespace

TxnHeader TxnHeader::read(jute::Reader& in) {
  TxnHeader h;
  h.clientId = in.readLong("TxnHeader.clientId");
  h.cxid = in.readInt("TxnHeader.cxid");
  h.zxid = in.readLong("TxnHeader.zxid");
  h.time = in.readLong("TxnHeader.time");
  h.type = in.readInt("TxnHeader.type");
  return h;
}

void TxnHeader::write(jute::Writer& out) const {
  out.writeLong(clientId);
  out.writeInt(cxid);
  out.writeLong(zxid);
  out.writeLong(time);
  out.writeInt(type);
}

void writeTxnBody(jute::Writer& out, std::int32_t /*type*/, const TxnBody& body) {
  std::visit(BodyWriter{out}, body);
}

TxnBody readTxnBody(jute::Reader& in, std::int32_t type) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kCreateSession:
      return CreateSessionTxn{in.readInt("CreateSessionTxn.timeOut")};
    case OpCode::kCloseSession:
      // Logs written before 3.6 (or with closeSessionTxn disabled) carry no body.
      if (in.atEnd()) return CloseSessionTxn{};
      return CloseSessionTxn{jute::readStringVector(in, "CloseSessionTxn.paths2Delete")};
    case OpCode::kMulti: {
      MultiTxn multi;
      std::int32_t count = in.readCount("MultiTxn.txns", 8);
      for (std::int32_t i = 0; i < count; ++i) {
        SubTxn sub;
        sub.type = in.readInt("MultiTxn.Txn.type");
        std::string inner = in.readBuffer("MultiTxn.Txn.data");
        jute::Reader innerIn(inner);
        sub.body = readSubBody(innerIn, sub.type);
        multi.txns.push_back(std::move(sub));
      }
      return multi;
    }
    default:
      return std::visit(Widen<TxnBody>{}, readSubBody(in, type));
  }
}

std::string encodeTxn(const Txn& txn) {
  std::string bytes;
  jute::Writer out(bytes);
  txn.header.write(out);
  writeTxnBody(out, txn.header.type, txn.body);
  return bytes;
}

Txn decodeTxn(std::string_view bytes) {
  jute::Reader in(bytes);
  Txn txn;
  txn.header = TxnHeader::read(in);
  txn.body = readTxnBody(in, txn.header.type);
  return txn;
}

}  // namespace zk
