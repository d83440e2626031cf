#pragma once
// The tree's nodes in PathLess order, owning them and the arena they live in: an intrusive
// red-black tree whose links live inside each Node, so a node is one block and nothing else.

#include <boost/intrusive/set.hpp>
#include <memory>
#include <string_view>

#include "tree/node.h"
#include "tree/path.h"

namespace zk {

class NodeSet {
  struct PathOf {
    using type = std::string_view;
    type operator()(const Node& node) const { return node.path(); }
  };
  using Set = boost::intrusive::set<Node, boost::intrusive::key_of_value<PathOf>,
                                    boost::intrusive::compare<PathLess>>;

 public:
  using iterator = Set::iterator;
  using const_iterator = Set::const_iterator;

  NodeSet() = default;
  NodeSet(const NodeSet&) = delete;
  NodeSet& operator=(const NodeSet&) = delete;
  // The nodes move with their arena; the moved-from set keeps a fresh, empty one.
  NodeSet(NodeSet&& other) noexcept {
    set_.swap(other.set_);
    arena_.swap(other.arena_);
  }
  NodeSet& operator=(NodeSet&& other) noexcept {
    if (this != &other) {
      clear();
      set_.swap(other.set_);
      arena_.swap(other.arena_);
    }
    return *this;
  }
  ~NodeSet() { clear(); }

  // Nodes for this set, from its arena (see Node::make and Node::withData).
  NodePtr make(std::string_view path, NodeData data, std::int64_t aclRef,
               const StatPersisted& stat) {
    return Node::make(*arena_, path, data, aclRef, stat);
  }
  NodePtr withData(const Node& node, NodeData data) { return Node::withData(*arena_, node, data); }

  // Takes ownership of a node made by this set. The path must not be present yet.
  iterator insert(NodePtr node);
  // Takes ownership of a node whose path sorts after every path present: no search.
  iterator append(NodePtr node);
  // Puts `node` (same path) where `at` is and frees the old node: no rebalancing.
  iterator replace(iterator at, NodePtr node);
  // Frees the node; returns the one after it.
  iterator erase(iterator at) { return set_.erase_and_dispose(at, NodeFree{arena_.get()}); }
  void clear() { set_.clear_and_dispose(NodeFree{arena_.get()}); }

  iterator find(std::string_view path) { return set_.find(path); }
  const_iterator find(std::string_view path) const { return set_.find(path); }
  iterator lower_bound(std::string_view path) { return set_.lower_bound(path); }
  const_iterator lower_bound(std::string_view path) const { return set_.lower_bound(path); }
  const_iterator upper_bound(std::string_view path) const { return set_.upper_bound(path); }
  iterator iteratorTo(Node& node) { return set_.iterator_to(node); }

  iterator begin() { return set_.begin(); }
  iterator end() { return set_.end(); }
  const_iterator begin() const { return set_.begin(); }
  const_iterator end() const { return set_.end(); }
  bool empty() const { return set_.empty(); }
  std::size_t size() const { return set_.size(); }

 private:
  // A node from another set's arena would be returned to the wrong one.
  void checkMine(const NodePtr& node) const;

  Set set_;
  std::unique_ptr<NodeArena> arena_ = std::make_unique<NodeArena>();
};

}  // namespace zk
