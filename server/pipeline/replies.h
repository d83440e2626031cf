#pragma once
// Frames sent to clients: replies, watch notifications and connect responses.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/errors.h"
#include "protocol/records.h"
#include "tree/data_tree.h"

namespace zk {

std::string replyFrame(std::int32_t xid, std::int64_t zxid, Err err, std::string_view body = {});
// The error code in the header of a frame replyFrame made (length, xid, zxid, err); 0 for a
// frame too short to hold one.
std::int32_t replyError(std::string_view frame);
// Sets the zxid in a reply frame's header: a reply built before its turn carries the tree's
// zxid at the moment it is sent, as ZooKeeper's FinalRequestProcessor writes it.
void setReplyZxid(std::string& frame, std::int64_t zxid);
std::string notificationFrame(const WatcherEvent& event);
std::string connectFrame(const ConnectResponse& response);
// What ZooKeeper tells a client whose session is expired or unknown: timeout 0, session 0,
// an all-zero password (the client reports SESSIONEXPIRED).
std::string expiredSessionFrame(bool withReadOnlyByte);

// The response body for a write whose txn was applied, by the request's op code.
std::string writeResponseBody(std::int32_t op, const ApplyResult& result);

}  // namespace zk
