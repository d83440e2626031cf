// Apache Curator's recipes against one server or ensemble: one line per check on stdout,
// "RESULT <check> PASS" or "RESULT <check> FAIL <why>". Driven by tests/clients/test_curator.py.
//
// Usage: java CuratorChecks <connect string> [check ...]   (no check named: all of them)
//
// Every check makes its own clients under its own path and waits for conditions with a deadline;
// a check that does not finish in CHECK_DEADLINE fails as a timeout and the next one runs.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

public final class CuratorChecks {
  private static final Duration CHECK_DEADLINE = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final int SESSION_TIMEOUT_MS = 4000;
  private static final int CONNECTION_TIMEOUT_MS = 10000;

  private final String connect;
  private final String root;
  private final ExecutorService helpers = Executors.newCachedThreadPool(daemonThreads());

  private CuratorChecks(String connect) {
    this.connect = connect;
    this.root = "/curator-checks-" + System.nanoTime();
  }

  @FunctionalInterface
  private interface Check {
    void run(String path) throws Exception;
  }

  /** A condition a check requires; its message says what was expected. */
  private static final class CheckFailed extends Exception {
    private static final long serialVersionUID = 1L;

    CheckFailed(String message) { super(message); }
  }

  private static ThreadFactory daemonThreads() {
    return r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    };
  }

  private Map<String, Check> checks() {
    Map<String, Check> all = new LinkedHashMap<>();
    all.put("mutex", this::mutex);
    all.put("read_write_lock", this::readWriteLock);
    all.put("leader_latch", this::leaderLatch);
    all.put("leader_selector", this::leaderSelector);
    all.put("curator_cache", this::curatorCache);
    all.put("tree_cache", this::treeCache);
    all.put("persistent_watch", this::persistentWatch);
    all.put("persistent_watcher_recipe", this::persistentWatcherRecipe);
    all.put("ttl_node", this::ttlNode);
    all.put("persistent_ttl_node", this::persistentTtlNode);
    all.put("persistent_node", this::persistentNode);
    all.put("simple_queue", this::simpleQueue);
    all.put("distributed_queue", this::distributedQueue);
    all.put("barrier", this::barrier);
    all.put("double_barrier", this::doubleBarrier);
    all.put("transaction", this::transaction);
    all.put("transaction_failure", this::transactionFailure);
    all.put("session_loss", this::sessionLoss);
    return all;
  }

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: CuratorChecks <connect string> [check ...]");
      System.exit(2);
    }
    CuratorChecks runner = new CuratorChecks(args[0]);
    Map<String, Check> all = runner.checks();
    List<String> names =
        args.length > 1 ? List.of(args).subList(1, args.length) : new ArrayList<>(all.keySet());
    for (String name : names) {
      Check check = all.get(name);
      System.out.println(check == null ? "RESULT " + name + " FAIL no such check"
                                       : "RESULT " + name + " " + runner.outcome(name, check));
      System.out.flush();
    }
    System.exit(0);
  }

  private String outcome(String name, Check check) {
    Future<?> running = helpers.submit(() -> {
      String path = root + "/" + name;
      createPersistent(path);
      check.run(path);
      return null;
    });
    try {
      running.get(CHECK_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      return "PASS";
    } catch (TimeoutException e) {
      running.cancel(true);
      return "FAIL timed out after " + CHECK_DEADLINE.toSeconds() + " s";
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      return "FAIL " + cause.getClass().getSimpleName() + ": " + oneLine(cause.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "FAIL interrupted";
    }
  }

  /**
   * Each check works under a persistent node of its own. Recipes create their parents as
   * containers, which the server reaps once empty: a recipe creating a child under a parent
   * being reaped (an earlier check's, or the shared root) would fail with NoNode.
   */
  private void createPersistent(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.create().creatingParentsIfNeeded().forPath(path);
    } catch (KeeperException.NodeExistsException e) {
      // a check run twice in one invocation reuses its node
    }
  }

  private static String oneLine(String s) { return s == null ? "" : s.replace('\n', ' '); }

  // ---- helpers -------------------------------------------------------------------------------

  private CuratorFramework client() throws Exception {
    CuratorFramework c = CuratorFrameworkFactory.newClient(
        connect, SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, new ExponentialBackoffRetry(100, 5));
    c.start();
    require(c.blockUntilConnected(CONNECTION_TIMEOUT_MS, TimeUnit.MILLISECONDS), "connected");
    return c;
  }

  private static void require(boolean condition, String what) throws CheckFailed {
    if (!condition) {
      throw new CheckFailed("expected: " + what);
    }
  }

  @FunctionalInterface
  private interface Condition {
    boolean holds() throws Exception;
  }

  /**
   * Polls until the condition holds; a condition that throws (a reconnect, a node not there
   * yet) does not hold yet.
   */
  private static void await(Condition condition, String what) throws Exception {
    await(condition, what, () -> null);
  }

  /** The same, saying what was seen instead when the deadline passes. */
  private static void await(Condition condition, String what, Supplier<Object> seen)
      throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!holdsNow(condition)) {
      if (System.nanoTime() > end) {
        Object saw = seen.get();
        throw new CheckFailed("timed out after " + WAIT.toSeconds() + " s waiting for " + what
            + (saw == null ? "" : "; saw " + saw));
      }
      Thread.sleep(20);
    }
  }

  private static boolean holdsNow(Condition condition) throws InterruptedException {
    try {
      return condition.holds();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      return false;
    }
  }

  private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  private static boolean exists(CuratorFramework c, String path) throws Exception {
    return c.checkExists().forPath(path) != null;
  }

  /** Runs body on a thread of its own (locks belong to the thread that took them). */
  private <T> Future<T> onOwnThread(java.util.concurrent.Callable<T> body) {
    return helpers.submit(body);
  }

  private static <T> T within(Future<T> f) throws Exception {
    return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---- locks ---------------------------------------------------------------------------------

  private void mutex(String path) throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client()) {
      InterProcessMutex mine = new InterProcessMutex(a, path);
      InterProcessMutex theirs = new InterProcessMutex(b, path);
      ExecutorService theirThread = Executors.newSingleThreadExecutor(daemonThreads());
      try {
        require(mine.acquire(WAIT.toMillis(), TimeUnit.MILLISECONDS), "a takes the lock");
        require(mine.acquire(1, TimeUnit.SECONDS), "a takes it again (reentrant)");
        require(!within(theirThread.submit(() -> theirs.acquire(300, TimeUnit.MILLISECONDS))),
            "b cannot take it while a holds it");
        Future<Boolean> theirTurn =
            theirThread.submit(() -> theirs.acquire(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        mine.release();
        mine.release();
        require(within(theirTurn), "b takes it once a released it twice");
        within(theirThread.submit(() -> {
          theirs.release();
          return null;
        }));
        // b's own view: another client may read from a member that has yet to apply the delete.
        require(b.getChildren().forPath(path).isEmpty(), "no lock node left behind");
      } finally {
        theirThread.shutdownNow();
      }
    }
  }

  private void readWriteLock(String path) throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client()) {
      InterProcessReadWriteLock lockA = new InterProcessReadWriteLock(a, path);
      InterProcessReadWriteLock lockB = new InterProcessReadWriteLock(b, path);
      require(lockA.readLock().acquire(WAIT.toMillis(), TimeUnit.MILLISECONDS), "a reads");
      require(canTake(lockB.readLock(), WAIT.toMillis()), "b reads at the same time");
      require(!canTake(lockB.writeLock(), 300), "b cannot write while a reads");
      lockA.readLock().release();
      require(canTake(lockB.writeLock(), WAIT.toMillis()), "b writes once a stopped reading");
    }
  }

  /** Whether lock can be taken within ms, on a thread of its own; released at once if so. */
  private boolean canTake(InterProcessMutex lock, long ms) throws Exception {
    return within(onOwnThread(() -> {
      boolean taken = lock.acquire(ms, TimeUnit.MILLISECONDS);
      if (taken) {
        lock.release();
      }
      return taken;
    }));
  }

  // ---- leader election -----------------------------------------------------------------------

  private void leaderLatch(String path) throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client()) {
      LeaderLatch latchA = new LeaderLatch(a, path, "a");
      LeaderLatch latchB = new LeaderLatch(b, path, "b");
      latchA.start();
      latchB.start();
      await(() -> latchA.hasLeadership() != latchB.hasLeadership(), "exactly one leader");
      LeaderLatch leader = latchA.hasLeadership() ? latchA : latchB;
      LeaderLatch other = leader == latchA ? latchB : latchA;
      await(() -> other.getLeader().getId().equals(leader.getId()), "both agreeing on the leader");
      var participants = other.getParticipants();
      require(participants.size() == 2, "two participants, got " + participants);
      leader.close();
      require(other.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
          "the other takes over when the leader leaves");
      other.close();
    }
  }

  private void leaderSelector(String path) throws Exception {
    final int contenders = 3;
    AtomicInteger leadingNow = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    Set<String> hadTurn = ConcurrentHashMap.newKeySet();
    List<CuratorFramework> clients = new ArrayList<>();
    List<LeaderSelector> selectors = new ArrayList<>();
    try {
      for (int i = 0; i < contenders; i++) {
        String id = "contender-" + i;
        CuratorFramework c = client();
        clients.add(c);
        LeaderSelector s = new LeaderSelector(c, path, new LeaderSelectorListenerAdapter() {
          @Override
          public void takeLeadership(CuratorFramework client) throws Exception {
            mostAtOnce.accumulateAndGet(leadingNow.incrementAndGet(), Math::max);
            hadTurn.add(id);
            Thread.sleep(100); // hold leadership a moment so that overlaps would show
            leadingNow.decrementAndGet();
          }
        });
        s.setId(id);
        selectors.add(s);
      }
      selectors.forEach(LeaderSelector::start);
      await(() -> hadTurn.size() == contenders, "every contender leading once");
      require(mostAtOnce.get() == 1, "one leader at a time (saw " + mostAtOnce.get() + ")");
    } finally {
      selectors.forEach(LeaderSelector::close);
      clients.forEach(CuratorFramework::close);
    }
  }

  // ---- caches and watches --------------------------------------------------------------------

  private void curatorCache(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.setData().forPath(path, bytes("v0"));
      CountDownLatch initialized = new CountDownLatch(1);
      List<String> events = new CopyOnWriteArrayList<>();
      try (CuratorCache cache = CuratorCache.build(c, path)) {
        cache.listenable().addListener(
            CuratorCacheListener.builder()
                .forInitialized(initialized::countDown)
                .forCreates(n -> events.add("created " + n.getPath()))
                .forChanges(
                    (old, n) -> events.add("changed " + n.getPath() + " " + text(n.getData())))
                .forDeletes(old -> events.add("deleted " + old.getPath()))
                .build());
        cache.start();
        require(initialized.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "cache initialised");
        c.create().forPath(path + "/x", bytes("1"));
        await(() -> events.contains("created " + path + "/x"), "the create event");
        c.setData().forPath(path + "/x", bytes("2"));
        await(()
                  -> cache.get(path + "/x").map(d -> "2".equals(text(d.getData()))).orElse(false),
            "the cache holding the new data of " + path + "/x");
        c.delete().forPath(path + "/x");
        await(() -> events.contains("deleted " + path + "/x"), "the delete event");
        require(events.contains("changed " + path + "/x 2"), "the change event; saw " + events);
        require("v0".equals(text(cache.get(path).orElseThrow().getData())), "root data cached");
      }
    }
  }

  @SuppressWarnings("deprecation") // TreeCache: superseded by CuratorCache, still widely used
  private void treeCache(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.create().creatingParentsIfNeeded().forPath(path + "/a", bytes("a"));
      CountDownLatch initialized = new CountDownLatch(1);
      List<String> events = new CopyOnWriteArrayList<>();
      try (TreeCache cache = TreeCache.newBuilder(c, path).build()) {
        cache.getListenable().addListener((client, event) -> {
          if (event.getType() == TreeCacheEvent.Type.INITIALIZED) {
            initialized.countDown();
          } else if (event.getData() != null) {
            events.add(event.getType() + " " + event.getData().getPath());
          }
        });
        cache.start();
        require(initialized.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "cache initialised");
        require(cache.getCurrentData(path + "/a") != null, "the existing child cached");
        c.create().forPath(path + "/a/b", bytes("b"));
        await(() -> events.contains("NODE_ADDED " + path + "/a/b"), "the add event");
        c.setData().forPath(path + "/a/b", bytes("b2"));
        await(() -> {
          var d = cache.getCurrentData(path + "/a/b");
          return d != null && "b2".equals(text(d.getData()));
        }, "the cache holding the new grandchild's data");
        c.delete().forPath(path + "/a/b");
        await(() -> events.contains("NODE_REMOVED " + path + "/a/b"), "the removal event");
        require(
            events.contains("NODE_UPDATED " + path + "/a/b"), "the update event; saw " + events);
      }
    }
  }

  /** Events of a watcher, and a way to know all earlier ones were delivered. */
  private static final class Recorder implements Watcher {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void process(WatchedEvent e) {
      if (e.getType() != Event.EventType.None) {
        events.add(e.getType() + " " + e.getPath());
      }
    }
  }

  /**
   * Connection states a client went through after it connected (the first CONNECTED, which
   * the listener may see after it was added, is not one of them).
   */
  private static List<ConnectionState> recordStates(CuratorFramework c) {
    List<ConnectionState> states = new CopyOnWriteArrayList<>();
    c.getConnectionStateListenable().addListener((client, state) -> {
      if (state != ConnectionState.CONNECTED) {
        states.add(state);
      }
    });
    return states;
  }

  /**
   * Waits until a one-shot watch set after `changes` fired: the client delivers events in
   * order, so every event those changes caused has been delivered by then.
   */
  private static void fence(CuratorFramework c, String path) throws Exception {
    CountDownLatch fired = new CountDownLatch(1);
    c.create().orSetData().creatingParentsIfNeeded().forPath(path);
    c.getData().usingWatcher((Watcher) e -> fired.countDown()).forPath(path);
    c.setData().forPath(path, bytes("fence"));
    require(fired.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the fence watch firing");
  }

  private void persistentWatch(String path) throws Exception {
    try (CuratorFramework c = client()) {
      List<ConnectionState> states = recordStates(c);
      Recorder recorder = new Recorder();
      c.watchers()
          .add()
          .withMode(AddWatchMode.PERSISTENT_RECURSIVE)
          .usingWatcher(recorder)
          .forPath(path);
      c.create().forPath(path + "/a");
      c.create().forPath(path + "/a/b");
      c.setData().forPath(path + "/a/b", bytes("x"));
      c.delete().forPath(path + "/a/b");
      List<String> expected = List.of("NodeCreated " + path + "/a", "NodeCreated " + path + "/a/b",
          "NodeDataChanged " + path + "/a/b", "NodeDeleted " + path + "/a/b");
      await(() -> recorder.events.equals(expected), "events " + expected, () -> recorder.events);
      require(states.isEmpty(), "the connection staying up; went through " + states);
      c.watchers().remove(recorder).forPath(path);
      c.create().forPath(path + "/after-removal");
      fence(c, path + "-fence");
      List<String> removed = new ArrayList<>(expected);
      removed.add("PersistentWatchRemoved " + path); // the client's own notice of the removal
      require(recorder.events.equals(removed), "no event after removal; saw " + recorder.events);
    }
  }

  private void persistentWatcherRecipe(String path) throws Exception {
    try (CuratorFramework c = client()) {
      List<ConnectionState> states = recordStates(c);
      Recorder recorder = new Recorder();
      try (PersistentWatcher watcher = new PersistentWatcher(c, path, false)) {
        watcher.getListenable().addListener(recorder);
        CountDownLatch set = new CountDownLatch(1);
        watcher.getResetListenable().addListener(set::countDown);
        watcher.start();
        require(set.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the watch set");
        c.create().forPath(path + "/child");
        c.setData().forPath(path, bytes("1"));
        c.setData().forPath(path, bytes("2"));
        List<String> expected = List.of(
            "NodeChildrenChanged " + path, "NodeDataChanged " + path, "NodeDataChanged " + path);
        await(() -> recorder.events.equals(expected), "events " + expected, () -> recorder.events);
        require(states.isEmpty(), "the connection staying up; went through " + states);
      }
    }
  }

  // ---- nodes ---------------------------------------------------------------------------------

  private void ttlNode(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.create()
          .withTtl(300)
          .creatingParentsIfNeeded()
          .withMode(CreateMode.PERSISTENT_WITH_TTL)
          .forPath(path + "/short", bytes("x"));
      String seq = c.create()
                       .withTtl(300)
                       .withMode(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL)
                       .forPath(path + "/seq-");
      require(seq.startsWith(path + "/seq-") && seq.length() == (path + "/seq-").length() + 10,
          "a sequential name with 10 digits, got " + seq);
      require(exists(c, path + "/short"), "the TTL node exists once created");
      await(()
                -> !exists(c, path + "/short") && !exists(c, seq),
          "both TTL nodes reaped once their TTL passed");
      try {
        c.create().withTtl(0).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(path + "/zero");
        require(false, "a TTL of 0 refused");
      } catch (IllegalArgumentException | KeeperException.BadArgumentsException e) {
        // refused, by the client or by the server
      }
    }
  }

  private void persistentTtlNode(String path) throws Exception {
    try (CuratorFramework c = client()) {
      String node = path + "/node";
      try (PersistentTtlNode ttlNode = new PersistentTtlNode(c, node, 500, bytes("alive"))) {
        ttlNode.start();
        require(ttlNode.waitForInitialCreate(WAIT.toMillis(), TimeUnit.MILLISECONDS),
            "the node created");
        require("alive".equals(text(c.getData().forPath(node))), "its data");
        // The recipe keeps a TTL child under its container node alive by touching it.
        String touch = node + "/" + PersistentTtlNode.DEFAULT_CHILD_NODE_NAME;
        await(() -> exists(c, touch), "the TTL child created");
        long firstTouch = c.checkExists().forPath(touch).getMtime();
        await(()
                  -> c.checkExists().forPath(touch).getMtime() > firstTouch,
            "the TTL child touched again");
      }
      // Closed: nobody touches the child any more, so its TTL runs out and the server reaps
      // it, then the emptied container.
      await(() -> !exists(c, node), "the node reaped after close");
    }
  }

  private void persistentNode(String path) throws Exception {
    try (CuratorFramework owner = client(); CuratorFramework other = client()) {
      String node = path + "/member";
      try (PersistentNode pn =
               new PersistentNode(owner, CreateMode.EPHEMERAL, false, node, bytes("v1"))) {
        pn.start();
        require(pn.waitForInitialCreate(WAIT.toMillis(), TimeUnit.MILLISECONDS), "created");
        require(owner.checkExists().forPath(node).getEphemeralOwner()
                == owner.getZookeeperClient().getZooKeeper().getSessionId(),
            "an ephemeral of the owner's session");
        await(() -> exists(other, node), "the node visible to the other client");
        other.delete().forPath(node);
        await(() -> exists(other, node), "the node recreated after another client deleted it");
        pn.setData(bytes("v2"));
        await(()
                  -> "v2".equals(text(other.getData().forPath(node))),
            "the new data visible to the other client");
      }
      await(() -> !exists(other, node), "the node gone once the recipe closed");
    }
  }

  // ---- queues --------------------------------------------------------------------------------

  private void simpleQueue(String path) throws Exception {
    try (CuratorFramework producer = client(); CuratorFramework consumer = client()) {
      SimpleDistributedQueue in = new SimpleDistributedQueue(producer, path);
      SimpleDistributedQueue out = new SimpleDistributedQueue(consumer, path);
      require(out.poll() == null, "an empty queue polls null");
      List<String> sent = List.of("one", "two", "three", "four", "five");
      for (String item : sent) {
        require(in.offer(bytes(item)), "offer " + item);
      }
      List<String> got = new ArrayList<>();
      for (int i = 0; i < sent.size(); i++) {
        got.add(text(out.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)));
      }
      require(got.equals(sent), "FIFO order " + sent + ", got " + got);
      Future<byte[]> waiting = onOwnThread(out::take);
      in.offer(bytes("late"));
      require("late".equals(text(within(waiting))), "take() wakes for an item offered later");
    }
  }

  private void distributedQueue(String path) throws Exception {
    BlockingQueue<String> consumed = new LinkedBlockingQueue<>();
    QueueSerializer<String> serializer = new QueueSerializer<>() {
      @Override
      public byte[] serialize(String item) {
        return bytes(item);
      }

      @Override
      public String deserialize(byte[] b) {
        return text(b);
      }
    };
    QueueConsumer<String> consumer = new QueueConsumer<>() {
      @Override
      public void consumeMessage(String message) {
        consumed.add(message);
      }

      @Override
      public void stateChanged(CuratorFramework client, ConnectionState newState) {}
    };
    try (CuratorFramework producing = client(); CuratorFramework consuming = client();
         DistributedQueue<String> in =
             QueueBuilder.builder(producing, null, serializer, path).buildQueue();
         DistributedQueue<String> out =
             QueueBuilder.builder(consuming, consumer, serializer, path).buildQueue()) {
      in.start();
      out.start();
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        sent.add("item-" + i);
        in.put("item-" + i);
      }
      List<String> got = new ArrayList<>();
      while (got.size() < sent.size()) {
        String item = consumed.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        require(item != null, "item " + got.size() + " consumed; got " + got);
        got.add(item);
      }
      require(got.equals(sent), "consumed in order");
      await(() -> producing.getChildren().forPath(path).isEmpty(), "the queue empty once consumed");
    }
  }

  // ---- barriers ------------------------------------------------------------------------------

  private void barrier(String path) throws Exception {
    try (CuratorFramework a = client(); CuratorFramework b = client()) {
      DistributedBarrier holder = new DistributedBarrier(a, path);
      DistributedBarrier waiter = new DistributedBarrier(b, path);
      holder.setBarrier();
      await(() -> exists(b, path), "the barrier visible to the waiter's client");
      require(!waiter.waitOnBarrier(300, TimeUnit.MILLISECONDS), "blocked while the barrier is up");
      Future<Boolean> passing =
          onOwnThread(() -> waiter.waitOnBarrier(WAIT.toMillis(), TimeUnit.MILLISECONDS));
      holder.removeBarrier();
      require(within(passing), "passes once the barrier is removed");
    }
  }

  private void doubleBarrier(String path) throws Exception {
    final int members = 3;
    List<CuratorFramework> clients = new ArrayList<>();
    try {
      List<DistributedDoubleBarrier> barriers = new ArrayList<>();
      for (int i = 0; i < members; i++) {
        CuratorFramework c = client();
        clients.add(c);
        barriers.add(new DistributedDoubleBarrier(c, path, members));
      }
      List<Future<Boolean>> entered = new ArrayList<>();
      for (DistributedDoubleBarrier barrier : barriers.subList(0, members - 1)) {
        entered.add(onOwnThread(() -> barrier.enter(WAIT.toMillis(), TimeUnit.MILLISECONDS)));
      }
      CuratorFramework c = clients.get(0);
      await(()
                -> c.getChildren().forPath(path).size() == members - 1,
          "the first members registered");
      require(entered.stream().noneMatch(Future::isDone), "nobody enters before all arrived");
      DistributedDoubleBarrier last = barriers.get(members - 1);
      entered.add(onOwnThread(() -> last.enter(WAIT.toMillis(), TimeUnit.MILLISECONDS)));
      for (Future<Boolean> f : entered) {
        require(within(f), "every member enters once all arrived");
      }
      List<Future<Boolean>> left = new ArrayList<>();
      for (DistributedDoubleBarrier barrier : barriers) {
        left.add(onOwnThread(() -> barrier.leave(WAIT.toMillis(), TimeUnit.MILLISECONDS)));
      }
      for (Future<Boolean> f : left) {
        require(within(f), "every member leaves once all are done");
      }
    } finally {
      clients.forEach(CuratorFramework::close);
    }
  }

  // ---- transactions --------------------------------------------------------------------------

  private void transaction(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.setData().forPath(path, bytes("v0")); // version 1
      List<CuratorOp> ops = List.of(c.transactionOp().create().forPath(path + "/t1", bytes("a")),
          c.transactionOp().setData().forPath(path, bytes("v1")),
          c.transactionOp().check().withVersion(2).forPath(path),
          c.transactionOp()
              .create()
              .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
              .forPath(path + "/s-"));
      List<CuratorTransactionResult> results = c.transaction().forOperations(ops);
      List<OperationType> types = results.stream().map(CuratorTransactionResult::getType).toList();
      require(types.equals(List.of(OperationType.CREATE, OperationType.SET_DATA,
                  OperationType.CHECK, OperationType.CREATE)),
          "result types in order, got " + types);
      require(results.get(0).getResultPath().equals(path + "/t1"), "the created path");
      require(results.get(1).getResultStat().getVersion() == 2, "setData's new version");
      require(results.get(3).getResultPath().equals(path + "/s-0000000001"),
          "the sequential name, got " + results.get(3).getResultPath());
      require("a".equals(text(c.getData().forPath(path + "/t1"))), "committed data");
    }
  }

  private void transactionFailure(String path) throws Exception {
    try (CuratorFramework c = client()) {
      c.create().creatingParentsIfNeeded().forPath(path + "/keep", bytes("k"));
      List<CuratorOp> ops = List.of(c.transactionOp().create().forPath(path + "/new"),
          c.transactionOp().delete().withVersion(5).forPath(path + "/keep"),
          c.transactionOp().setData().forPath(path + "/keep", bytes("changed")));
      try {
        c.transaction().forOperations(ops);
        require(false, "the transaction refused");
      } catch (KeeperException.BadVersionException e) {
        List<Integer> codes = new ArrayList<>();
        for (OpResult r : e.getResults()) {
          codes.add(((OpResult.ErrorResult) r).getErr());
        }
        int ok = KeeperException.Code.OK.intValue();
        int badVersion = KeeperException.Code.BADVERSION.intValue();
        int rolledBack = KeeperException.Code.RUNTIMEINCONSISTENCY.intValue();
        require(codes.equals(List.of(ok, badVersion, rolledBack)),
            "per-op errors [0, -103, -2] as ZooKeeper reports them, got " + codes);
      }
      require(!exists(c, path + "/new"), "nothing of it applied (no /new)");
      require("k".equals(text(c.getData().forPath(path + "/keep"))), "nothing applied (/keep)");
    }
  }

  // ---- sessions ------------------------------------------------------------------------------

  private void sessionLoss(String path) throws Exception {
    try (CuratorFramework c = client()) {
      List<ConnectionState> states = recordStates(c);
      c.create().withMode(CreateMode.EPHEMERAL).forPath(path + "/ephemeral");
      ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
      long lost = zk.getSessionId();
      // A second connection resuming the session and closing it ends the session on the
      // server, as an expiry would: the first client learns it when it next reconnects.
      CountDownLatch resumed = new CountDownLatch(1);
      ZooKeeper thief = new ZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {
        if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
          resumed.countDown();
        }
      }, lost, zk.getSessionPasswd());
      require(resumed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the session resumed");
      thief.close();
      await(() -> states.contains(ConnectionState.LOST), "LOST", () -> states);
      await(
          ()
              -> states.indexOf(ConnectionState.RECONNECTED) > states.indexOf(ConnectionState.LOST),
          "RECONNECTED after LOST", () -> states);
      require(c.getZookeeperClient().getZooKeeper().getSessionId() != lost, "a new session");
      require(!exists(c, path + "/ephemeral"), "the lost session's ephemeral gone");
      c.create().withMode(CreateMode.EPHEMERAL).forPath(path + "/ephemeral");
      require(c.checkExists().forPath(path + "/ephemeral").getEphemeralOwner()
              == c.getZookeeperClient().getZooKeeper().getSessionId(),
          "the new session works");
    }
  }
}
