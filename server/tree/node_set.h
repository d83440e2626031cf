#pragma once
// The tree's nodes in PathLess order, owning them: an intrusive red-black tree whose links
// live inside each Node, so a node is one allocation and nothing else.

#include <boost/intrusive/set.hpp>
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
  NodeSet(NodeSet&& other) noexcept { set_.swap(other.set_); }
  NodeSet& operator=(NodeSet&& other) noexcept {
    if (this != &other) {
      clear();
      set_.swap(other.set_);
    }
    return *this;
  }
  ~NodeSet() { clear(); }

  // Takes ownership. The path must not be present yet.
  iterator insert(NodePtr node);
  // Takes ownership of a node whose path sorts after every path present: no search.
  iterator append(NodePtr node);
  // Puts `node` (same path) where `at` is and frees the old node: no rebalancing.
  iterator replace(iterator at, NodePtr node);
  // Frees the node; returns the one after it.
  iterator erase(iterator at) { return set_.erase_and_dispose(at, NodeFree{}); }
  void clear() { set_.clear_and_dispose(NodeFree{}); }

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
  Set set_;
};

}  // namespace zk
