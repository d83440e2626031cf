// libFuzzer target: arbitrary bytes as what a peer sends on the quorum port, through the packet
// decoder and into a zab::Peer twice: once following leader 3 (the bytes come from the leader)
// and once leading (the bytes come from learner 1). Txns the peer logs or delivers are decoded
// as the server would. Nothing a peer sends may crash a member.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_chunks.h"
#include "jute/reader.h"
#include "protocol/txn.h"
#include "storage/snapshot.h"
#include "zab/peer.h"

namespace {

using namespace zk::zab;

PeerConfig threeMembers(std::int64_t sid) {
  PeerConfig config;
  config.mySid = sid;
  config.members = {{1, Role::Participant}, {2, Role::Participant}, {3, Role::Participant}};
  return config;
}

PersistedState smallLog() {
  PersistedState state;
  state.acceptedEpoch = state.currentEpoch = 1;
  for (std::int64_t counter = 1; counter <= 3; ++counter) {
    zk::Txn txn;
    txn.header = {1, static_cast<std::int32_t>(counter), std::int64_t{1} << 32 | counter, 0,
                  static_cast<std::int32_t>(zk::OpCode::kCreateSession)};
    txn.body = zk::CreateSessionTxn{30000};
    state.log.push_back({txn.header.zxid, zk::encodeTxn(txn)});
  }
  state.appliedZxid = state.log.back().zxid;
  return state;
}

void decodeLikeTheServer(std::string_view txnBytes) {
  try {
    zk::decodeTxn(txnBytes);
  } catch (const zk::jute::DecodeError&) {
  }
}

// Plays the server's side of the actions that carry bytes from the peer.
void runActions(Peer& peer) {
  for (auto& action : peer.takeActions()) {
    if (auto* persist = std::get_if<act::PersistTxn>(&action)) {
      decodeLikeTheServer(persist->bytes);
      peer.onPersisted(persist->zxid);
    } else if (auto* deliver = std::get_if<act::Deliver>(&action)) {
      decodeLikeTheServer(deliver->bytes);
    } else if (auto* load = std::get_if<act::LoadSnapshot>(&action)) {
      zk::DataTree tree;
      zk::storage::SessionMap sessions;
      auto* base = reinterpret_cast<const std::uint8_t*>(load->bytes.data());
      try {
        zk::storage::loadSnapshotBytes(std::span(base, load->bytes.size()), tree, sessions);
      } catch (const zk::storage::StorageError&) {
      }
    }
  }
}

void elect(Peer& peer, std::int64_t leader) {
  Notification vote{ServerState::Looking,
                    leader,
                    peer.lastLoggedZxid(),
                    peer.electionClock(),
                    peer.currentEpoch(),
                    0x2,
                    ""};
  for (std::int64_t sid = 1; sid <= 3; ++sid) {
    if (sid != peer.mySid()) peer.onVote(sid, vote);
  }
  peer.tick(1000);
  runActions(peer);
  if (peer.state() == ServerState::Following) peer.onConnected(leader);
  runActions(peer);
}

void feedPeer(std::string_view bytes, Peer& peer, std::int64_t from) {
  PacketDecoder decoder(1u << 20);
  std::int64_t now = 1000;
  zk::fuzz::feedInChunks(bytes, [&](std::string_view chunk) {
    decoder.feed(chunk);
    for (;;) {
      auto next = decoder.next();
      if (std::holds_alternative<NeedMore>(next)) return true;
      if (std::holds_alternative<Malformed>(next)) return false;
      peer.onPacket(from, std::get<QuorumPacket>(next));
      runActions(peer);
      now += 100;
      peer.tick(now);
      runActions(peer);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = zk::fuzz::asChars(data, size);
  // The harness must reach the roles it means to fuzz, or the run fuzzes nothing.
  Peer follower(threeMembers(1), smallLog(), 0);
  elect(follower, 3);
  if (follower.state() != ServerState::Following) __builtin_trap();
  feedPeer(bytes, follower, 3);

  Peer leader(threeMembers(3), smallLog(), 0);
  elect(leader, 3);
  if (leader.state() != ServerState::Leading) __builtin_trap();
  feedPeer(bytes, leader, 1);
  return 0;
}
