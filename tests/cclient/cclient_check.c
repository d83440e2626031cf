/* Drives a server with the official C client (libzookeeper-mt) and exits 0 only if every
 * result is what ZooKeeper 3.8 gives. Usage: cclient_check host:port */
/* The synchronous API of libzookeeper-mt is only declared for threaded builds. */
#define THREADED
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define WAIT_SECONDS 10

static int failures = 0;

static void check(int ok, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, ok ? "ok   " : "FAIL ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (!ok) failures++;
}

/* One-shot latch shared by the watcher and the async completions. */
struct latch {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int fired;
  int type;
  int rc;
  char path[256];
  char data[64];
  int data_len;
};

static void latch_init(struct latch* l) {
  memset(l, 0, sizeof(*l));
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
}

static void latch_reset(struct latch* l) {
  pthread_mutex_lock(&l->mu);
  l->fired = 0;
  l->type = 0;
  l->rc = 0;
  l->path[0] = '\0';
  pthread_mutex_unlock(&l->mu);
}

static void latch_fire(struct latch* l, int type, int rc, const char* path) {
  pthread_mutex_lock(&l->mu);
  l->fired = 1;
  l->type = type;
  l->rc = rc;
  snprintf(l->path, sizeof(l->path), "%s", path ? path : "");
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

/* Returns 1 if the latch fired before the deadline. */
static int latch_wait(struct latch* l) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WAIT_SECONDS;
  pthread_mutex_lock(&l->mu);
  int rc = 0;
  while (!l->fired && rc == 0) rc = pthread_cond_timedwait(&l->cv, &l->mu, &deadline);
  int fired = l->fired;
  pthread_mutex_unlock(&l->mu);
  return fired;
}

static struct latch connected;
static struct latch watched;
static struct latch async_done;

static void session_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)ctx;
  if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE)
    latch_fire(&connected, type, 0, path);
}

static void data_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)state;
  (void)ctx;
  latch_fire(&watched, type, 0, path);
}

static void string_done(int rc, const char* value, const void* data) {
  (void)data;
  latch_fire(&async_done, 0, rc, value);
}

static void data_done(int rc, const char* value, int len, const struct Stat* stat,
                      const void* data) {
  (void)stat;
  (void)data;
  pthread_mutex_lock(&async_done.mu);
  async_done.data_len = len < 0 ? -1 : (len > 63 ? 63 : len);
  if (len > 0) memcpy(async_done.data, value, async_done.data_len);
  pthread_mutex_unlock(&async_done.mu);
  latch_fire(&async_done, 0, rc, NULL);
}

static void void_done(int rc, const void* data) {
  (void)data;
  latch_fire(&async_done, 0, rc, NULL);
}

static void check_sync_ops(zhandle_t* zh, const char* root) {
  char path[256], created[256], buf[64];
  struct Stat st;
  int len = sizeof(buf);
  check(zoo_get(zh, root, 0, buf, &len, &st) == ZOK && len == 4 && memcmp(buf, "root", 4) == 0,
        "get returns the created data");
  check(st.version == 0 && st.numChildren == 0 && st.czxid == st.mzxid, "fresh stat");

  snprintf(path, sizeof(path), "%s/seq-", root);
  int rc =
      zoo_create(zh, path, "s", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, created, sizeof(created));
  check(rc == ZOK && strlen(created) == strlen(path) + 10, "sequential create -> %s", created);
  snprintf(path, sizeof(path), "%s/eph", root);
  rc = zoo_create(zh, path, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
  check(rc == ZOK, "ephemeral create");
  check(zoo_exists(zh, path, 0, &st) == ZOK && st.ephemeralOwner == zoo_client_id(zh)->client_id,
        "ephemeral owned by this session");
  check(zoo_create(zh, path, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) == ZNODEEXISTS,
        "duplicate create -> ZNODEEXISTS");
  snprintf(path, sizeof(path), "%s/missing", root);
  check(zoo_exists(zh, path, 0, &st) == ZNONODE, "exists on missing -> ZNONODE");
  check(zoo_set(zh, root, "x", 1, 5) == ZBADVERSION, "set with wrong version -> ZBADVERSION");

  struct String_vector children;
  check(zoo_get_children(zh, root, 0, &children) == ZOK && children.count == 2, "two children");
  deallocate_String_vector(&children);
}

static void check_watch(zhandle_t* zh, const char* root) {
  char buf[64];
  int len = sizeof(buf);
  latch_reset(&watched);
  check(zoo_wget(zh, root, data_watcher, NULL, buf, &len, NULL) == ZOK, "wget arms a watch");
  check(zoo_set(zh, root, "changed", 7, 0) == ZOK, "set with the right version");
  check(
      latch_wait(&watched) && watched.type == ZOO_CHANGED_EVENT && strcmp(watched.path, root) == 0,
      "data watch fired with CHANGED on %s", root);
}

static void check_multi(zhandle_t* zh, const char* root) {
  char child[256], made[256];
  snprintf(child, sizeof(child), "%s/multi", root);
  zoo_op_t ops[3];
  zoo_op_result_t results[3];
  zoo_create_op_init(&ops[0], child, "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, made, sizeof(made));
  zoo_set_op_init(&ops[1], root, "after-multi", 11, 1, NULL);
  zoo_check_op_init(&ops[2], child, 0);
  int rc = zoo_multi(zh, 3, ops, results);
  check(rc == ZOK && results[0].err == ZOK && results[1].err == ZOK && results[2].err == ZOK,
        "multi commits (rc %d)", rc);
  check(strcmp(made, child) == 0, "multi create returns the path");

  zoo_create_op_init(&ops[0], "/cclient-should-not-exist", NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL,
                     0);
  zoo_delete_op_init(&ops[1], child, 42);
  zoo_set_op_init(&ops[2], root, "nope", 4, -1, NULL);
  rc = zoo_multi(zh, 3, ops, results);
  check(rc == ZBADVERSION, "failing multi returns the first error (rc %d)", rc);
  check(results[0].err == ZOK || results[0].err == ZRUNTIMEINCONSISTENCY,
        "ops before the failure are rolled back (err %d)", results[0].err);
  check(results[1].err == ZBADVERSION, "failing op carries its error");
  check(results[2].err == ZRUNTIMEINCONSISTENCY, "ops after the failure -> RUNTIMEINCONSISTENCY");
  struct Stat st;
  check(zoo_exists(zh, "/cclient-should-not-exist", 0, &st) == ZNONODE, "multi was atomic");
}

static void check_async(zhandle_t* zh, const char* root) {
  char path[256];
  snprintf(path, sizeof(path), "%s/async", root);
  latch_reset(&async_done);
  check(zoo_acreate(zh, path, "av", 2, &ZOO_OPEN_ACL_UNSAFE, 0, string_done, NULL) == ZOK,
        "acreate queued");
  check(latch_wait(&async_done) && async_done.rc == ZOK && strcmp(async_done.path, path) == 0,
        "acreate completion");
  latch_reset(&async_done);
  check(zoo_aget(zh, path, 0, data_done, NULL) == ZOK, "aget queued");
  check(latch_wait(&async_done) && async_done.rc == ZOK && async_done.data_len == 2 &&
            memcmp(async_done.data, "av", 2) == 0,
        "aget completion returns the data");
  latch_reset(&async_done);
  check(zoo_adelete(zh, path, 0, void_done, NULL) == ZOK, "adelete queued");
  check(latch_wait(&async_done) && async_done.rc == ZOK, "adelete completion");
}

static void cleanup(zhandle_t* zh, const char* root) {
  struct String_vector children;
  if (zoo_get_children(zh, root, 0, &children) != ZOK) return;
  for (int i = 0; i < children.count; i++) {
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, children.data[i]);
    zoo_delete(zh, path, -1);
  }
  deallocate_String_vector(&children);
  check(zoo_delete(zh, root, -1) == ZOK, "cleanup deletes the root");
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s host:port\n", argv[0]);
    return 2;
  }
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  latch_init(&connected);
  latch_init(&watched);
  latch_init(&async_done);
  zhandle_t* zh = zookeeper_init(argv[1], session_watcher, 10000, NULL, NULL, 0);
  if (zh == NULL || !latch_wait(&connected)) {
    fprintf(stderr, "FAIL could not connect to %s\n", argv[1]);
    return 1;
  }
  check(zoo_recv_timeout(zh) > 0, "negotiated timeout %d", zoo_recv_timeout(zh));
  char root[64];
  snprintf(root, sizeof(root), "/cclient-%ld", (long)getpid());
  check(zoo_create(zh, root, "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) == ZOK, "create %s",
        root);

  check_sync_ops(zh, root);
  check_watch(zh, root);
  check_multi(zh, root);
  check_async(zh, root);
  cleanup(zh, root);

  check(zookeeper_close(zh) == ZOK, "close");
  fprintf(stderr, "%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
