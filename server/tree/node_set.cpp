#include "tree/node_set.h"

#include <stdexcept>
#include <string>

namespace zk {

void NodeSet::checkMine(const NodePtr& node) const {
  if (node.get_deleter().arena != arena_.get()) {
    throw std::logic_error("znode " + std::string(node->path()) + " was made for another set");
  }
}

NodeSet::iterator NodeSet::insert(NodePtr node) {
  checkMine(node);
  auto [it, inserted] = set_.insert_unique(*node);
  if (!inserted) throw std::logic_error("znode " + std::string(node->path()) + " inserted twice");
  static_cast<void>(node.release());  // the set owns it now
  return it;
}

NodeSet::iterator NodeSet::append(NodePtr node) {
  checkMine(node);
  if (!set_.empty() && !PathLess{}(set_.rbegin()->path(), node->path())) {
    throw std::logic_error("znode " + std::string(node->path()) + " appended out of order");
  }
  set_.push_back(*node);
  return set_.iterator_to(*node.release());
}

NodeSet::iterator NodeSet::replace(iterator at, NodePtr node) {
  checkMine(node);
  if (at->path() != node->path()) throw std::logic_error("replace must keep the path");
  NodePtr old(&*at, NodeFree{arena_.get()});
  set_.replace_node(at, *node);
  return set_.iterator_to(*node.release());
}

}  // namespace zk
