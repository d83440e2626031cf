#include "protocol/records.h"

namespace zk {

Id Id::read(jute::Reader& in) {
  Id v;
  v.scheme = in.readString("Id.scheme");
  v.id = in.readString("Id.id");
  return v;
}
void Id::write(jute::Writer& out) const {
  out.writeString(scheme);
  out.writeString(id);
}

ACL ACL::read(jute::Reader& in) {
  ACL v;
  v.perms = in.readInt("ACL.perms");
  v.id = Id::read(in);
  return v;
}
void ACL::write(jute::Writer& out) const {
  out.writeInt(perms);
  id.write(out);
}

StatPersisted StatPersisted::read(jute::Reader& in) {
  StatPersisted s;
  s.czxid = in.readLong("czxid");
  s.mzxid = in.readLong("mzxid");
  s.ctime = in.readLong("ctime");
  s.mtime = in.readLong("mtime");
  s.version = in.readInt("version");
  s.cversion = in.readInt("cversion");
  s.aversion = in.readInt("aversion");
  s.ephemeralOwner = in.readLong("ephemeralOwner");
  s.pzxid = in.readLong("pzxid");
  return s;
}
void StatPersisted::write(jute::Writer& out) const {
  out.writeLong(czxid);
  out.writeLong(mzxid);
  out.writeLong(ctime);
  out.writeLong(mtime);
  out.writeInt(version);
  out.writeInt(cversion);
  out.writeInt(aversion);
  out.writeLong(ephemeralOwner);
  out.writeLong(pzxid);
}

Stat Stat::read(jute::Reader& in) {
  Stat s;
  s.czxid = in.readLong("czxid");
  s.mzxid = in.readLong("mzxid");
  s.ctime = in.readLong("ctime");
  s.mtime = in.readLong("mtime");
  s.version = in.readInt("version");
  s.cversion = in.readInt("cversion");
  s.aversion = in.readInt("aversion");
  s.ephemeralOwner = in.readLong("ephemeralOwner");
  s.dataLength = in.readInt("dataLength");
  s.numChildren = in.readInt("numChildren");
  s.pzxid = in.readLong("pzxid");
  return s;
}
void Stat::write(jute::Writer& out) const {
  out.writeLong(czxid);
  out.writeLong(mzxid);
  out.writeLong(ctime);
  out.writeLong(mtime);
  out.writeInt(version);
  out.writeInt(cversion);
  out.writeInt(aversion);
  out.writeLong(ephemeralOwner);
  out.writeInt(dataLength);
  out.writeInt(numChildren);
  out.writeLong(pzxid);
}
Stat Stat::from(const StatPersisted& p, std::int32_t dataLength, std::int32_t numChildren) {
  return Stat{p.czxid,    p.mzxid,          p.ctime,    p.mtime,     p.version, p.cversion,
              p.aversion, p.ephemeralOwner, dataLength, numChildren, p.pzxid};
}

RequestHeader RequestHeader::read(jute::Reader& in) {
  RequestHeader h;
  h.xid = in.readInt("RequestHeader.xid");
  h.type = in.readInt("RequestHeader.type");
  return h;
}
void RequestHeader::write(jute::Writer& out) const {
  out.writeInt(xid);
  out.writeInt(type);
}

ReplyHeader ReplyHeader::read(jute::Reader& in) {
  ReplyHeader h;
  h.xid = in.readInt("ReplyHeader.xid");
  h.zxid = in.readLong("ReplyHeader.zxid");
  h.err = in.readInt("ReplyHeader.err");
  return h;
}
void ReplyHeader::write(jute::Writer& out) const {
  out.writeInt(xid);
  out.writeLong(zxid);
  out.writeInt(err);
}

ConnectRequest ConnectRequest::read(jute::Reader& in) {
  ConnectRequest r;
  r.protocolVersion = in.readInt("ConnectRequest.protocolVersion");
  r.lastZxidSeen = in.readLong("ConnectRequest.lastZxidSeen");
  r.timeOut = in.readInt("ConnectRequest.timeOut");
  r.sessionId = in.readLong("ConnectRequest.sessionId");
  r.passwd = in.readBuffer("ConnectRequest.passwd");
  if (!in.atEnd()) {
    r.readOnly = in.readBool("ConnectRequest.readOnly");
    r.hasReadOnlyByte = true;
  }
  return r;
}
void ConnectRequest::write(jute::Writer& out) const {
  out.writeInt(protocolVersion);
  out.writeLong(lastZxidSeen);
  out.writeInt(timeOut);
  out.writeLong(sessionId);
  out.writeBuffer(passwd);
  if (hasReadOnlyByte) out.writeBool(readOnly);
}

ConnectResponse ConnectResponse::read(jute::Reader& in) {
  ConnectResponse r;
  r.protocolVersion = in.readInt("ConnectResponse.protocolVersion");
  r.timeOut = in.readInt("ConnectResponse.timeOut");
  r.sessionId = in.readLong("ConnectResponse.sessionId");
  r.passwd = in.readBuffer("ConnectResponse.passwd");
  r.withReadOnlyByte = !in.atEnd();
  if (r.withReadOnlyByte) r.readOnly = in.readBool("ConnectResponse.readOnly");
  return r;
}
void ConnectResponse::write(jute::Writer& out) const {
  out.writeInt(protocolVersion);
  out.writeInt(timeOut);
  out.writeLong(sessionId);
  out.writeBuffer(passwd);
  if (withReadOnlyByte) out.writeBool(readOnly);
}

WatcherEvent WatcherEvent::read(jute::Reader& in) {
  WatcherEvent e;
  e.type = in.readInt("WatcherEvent.type");
  e.state = in.readInt("WatcherEvent.state");
  e.path = in.readString("WatcherEvent.path");
  return e;
}
void WatcherEvent::write(jute::Writer& out) const {
  out.writeInt(type);
  out.writeInt(state);
  out.writeString(path);
}

AuthPacket AuthPacket::read(jute::Reader& in) {
  AuthPacket a;
  a.type = in.readInt("AuthPacket.type");
  a.scheme = in.readString("AuthPacket.scheme");
  a.auth = in.readBuffer("AuthPacket.auth");
  return a;
}
void AuthPacket::write(jute::Writer& out) const {
  out.writeInt(type);
  out.writeString(scheme);
  out.writeBuffer(auth);
}

PathWatchRequest PathWatchRequest::read(jute::Reader& in) {
  PathWatchRequest r;
  r.path = in.readString("path");
  r.watch = in.readBool("watch");
  return r;
}
void PathWatchRequest::write(jute::Writer& out) const {
  out.writeString(path);
  out.writeBool(watch);
}

PathRequest PathRequest::read(jute::Reader& in) {
  return PathRequest{in.readString("path")};
}
void PathRequest::write(jute::Writer& out) const {
  out.writeString(path);
}

CreateRequest CreateRequest::read(jute::Reader& in, bool withTtl) {
  CreateRequest r;
  r.path = in.readString("CreateRequest.path");
  r.data = in.readNullableBuffer("CreateRequest.data");
  r.acl = jute::readVector<ACL>(in, "CreateRequest.acl");
  r.flags = in.readInt("CreateRequest.flags");
  if (withTtl) r.ttl = in.readLong("CreateTTLRequest.ttl");
  return r;
}
void CreateRequest::write(jute::Writer& out, bool withTtl) const {
  out.writeString(path);
  out.writeNullableBuffer(data);
  jute::writeVector(out, acl);
  out.writeInt(flags);
  if (withTtl) out.writeLong(ttl);
}

PathVersionRequest PathVersionRequest::read(jute::Reader& in) {
  PathVersionRequest r;
  r.path = in.readString("path");
  r.version = in.readInt("version");
  return r;
}
void PathVersionRequest::write(jute::Writer& out) const {
  out.writeString(path);
  out.writeInt(version);
}

SetDataRequest SetDataRequest::read(jute::Reader& in) {
  SetDataRequest r;
  r.path = in.readString("SetDataRequest.path");
  r.data = in.readNullableBuffer("SetDataRequest.data");
  r.version = in.readInt("SetDataRequest.version");
  return r;
}
void SetDataRequest::write(jute::Writer& out) const {
  out.writeString(path);
  out.writeNullableBuffer(data);
  out.writeInt(version);
}

SetACLRequest SetACLRequest::read(jute::Reader& in) {
  SetACLRequest r;
  r.path = in.readString("SetACLRequest.path");
  r.acl = jute::readVector<ACL>(in, "SetACLRequest.acl");
  r.version = in.readInt("SetACLRequest.version");
  return r;
}
void SetACLRequest::write(jute::Writer& out) const {
  out.writeString(path);
  jute::writeVector(out, acl);
  out.writeInt(version);
}

SetWatchesRequest SetWatchesRequest::read(jute::Reader& in, bool v2) {
  SetWatchesRequest r;
  r.relativeZxid = in.readLong("SetWatches.relativeZxid");
  r.dataWatches = jute::readStringVector(in, "SetWatches.dataWatches");
  r.existWatches = jute::readStringVector(in, "SetWatches.existWatches");
  r.childWatches = jute::readStringVector(in, "SetWatches.childWatches");
  if (v2) {
    r.persistentWatches = jute::readStringVector(in, "SetWatches2.persistentWatches");
    r.persistentRecursiveWatches =
        jute::readStringVector(in, "SetWatches2.persistentRecursiveWatches");
  }
  return r;
}
void SetWatchesRequest::write(jute::Writer& out, bool v2) const {
  out.writeLong(relativeZxid);
  jute::writeStringVector(out, dataWatches);
  jute::writeStringVector(out, existWatches);
  jute::writeStringVector(out, childWatches);
  if (v2) {
    jute::writeStringVector(out, persistentWatches);
    jute::writeStringVector(out, persistentRecursiveWatches);
  }
}

WatchTypeRequest WatchTypeRequest::read(jute::Reader& in) {
  WatchTypeRequest r;
  r.path = in.readString("path");
  r.type = in.readInt("type");
  return r;
}
void WatchTypeRequest::write(jute::Writer& out) const {
  out.writeString(path);
  out.writeInt(type);
}

AddWatchRequest AddWatchRequest::read(jute::Reader& in) {
  AddWatchRequest r;
  r.path = in.readString("AddWatchRequest.path");
  r.mode = in.readInt("AddWatchRequest.mode");
  return r;
}
void AddWatchRequest::write(jute::Writer& out) const {
  out.writeString(path);
  out.writeInt(mode);
}

ReconfigRequest ReconfigRequest::read(jute::Reader& in) {
  ReconfigRequest r;
  r.joiningServers = in.readString("ReconfigRequest.joiningServers");
  r.leavingServers = in.readString("ReconfigRequest.leavingServers");
  r.newMembers = in.readString("ReconfigRequest.newMembers");
  r.curConfigId = in.readLong("ReconfigRequest.curConfigId");
  return r;
}
void ReconfigRequest::write(jute::Writer& out) const {
  out.writeString(joiningServers);
  out.writeString(leavingServers);
  out.writeString(newMembers);
  out.writeLong(curConfigId);
}

MultiHeader MultiHeader::read(jute::Reader& in) {
  MultiHeader h;
  h.type = in.readInt("MultiHeader.type");
  h.done = in.readBool("MultiHeader.done");
  h.err = in.readInt("MultiHeader.err");
  return h;
}
void MultiHeader::write(jute::Writer& out) const {
  out.writeInt(type);
  out.writeBool(done);
  out.writeInt(err);
}

ClientInfo ClientInfo::read(jute::Reader& in) {
  ClientInfo c;
  c.authScheme = in.readString("ClientInfo.authScheme");
  c.user = in.readString("ClientInfo.user");
  return c;
}
void ClientInfo::write(jute::Writer& out) const {
  out.writeString(authScheme);
  out.writeString(user);
}

}  // namespace zk
