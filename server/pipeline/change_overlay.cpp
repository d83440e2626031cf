#include "pipeline/change_overlay.h"

namespace zk {

std::optional<NodeView> ChangeOverlay::lookup(const std::string& path) const {
  if (auto it = latest_.find(path); it != latest_.end()) return it->second.view;
  const Node* node = tree_.find(path);
  if (node == nullptr) return std::nullopt;
  const AclList* acl = tree_.aclCache().find(node->aclRef);
  return NodeView{node->stat.persisted(), node->stat.numChildren, acl ? *acl : AclList{},
                  static_cast<std::int64_t>(node->data().size()),
                  acl ? std::nullopt : std::optional(node->aclRef)};
}

void ChangeOverlay::put(const std::string& path, std::int64_t zxid, std::optional<NodeView> view) {
  latest_[path] = Change{zxid, std::move(view)};
  order_.emplace_back(zxid, path);
}

void ChangeOverlay::retire(std::int64_t appliedZxid) {
  while (!order_.empty() && order_.front().first <= appliedZxid) {
    auto it = latest_.find(order_.front().second);
    if (it != latest_.end() && it->second.zxid == order_.front().first) latest_.erase(it);
    order_.pop_front();
  }
}

std::optional<NodeView> ScratchView::lookup(const std::string& path) const {
  if (auto it = local_.find(path); it != local_.end()) return it->second;
  return base_.lookup(path);
}

void ScratchView::commitTo(ChangeOverlay& overlay, std::int64_t zxid) {
  for (auto& [path, view] : local_) overlay.put(path, zxid, std::move(view));
  local_.clear();
}

}  // namespace zk
