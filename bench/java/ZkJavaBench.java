// A closed-loop load generator on Apache ZooKeeper's own Java client, for what zkbench cannot
// reach: Debian's libzookeeper-mt has no TLS, so the TLS rows of bench/compare.py run on this.
// It is the client Kafka, HBase, Solr and Curator users run, over its Netty socket (the one
// that speaks TLS), in plaintext or TLS by --secure alone, so the two rows differ only there.
//
// Every session keeps --outstanding requests in flight on the asynchronous API; a reply sends
// that slot's next request at once. Latency is taken per request from send to reply, and only
// replies inside the measured window (after --warmup) count. One JSON line is printed, with the
// field names zkbench uses.
//
// Usage: java -cp <Debian's zookeeper and netty jars>:<classes> ZkJavaBench
//          --hosts H:P --workload get|set --sessions N --outstanding M --value-size B
//          --keys K --duration S --warmup S [--secure --keystore F --truststore F]

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

public final class ZkJavaBench {
  private static final String ROOT = "/zkjavabench";

  private final Map<String, String> options;
  private final boolean write;
  private final int keys;
  private final byte[] value;
  private volatile long measureFrom;
  private volatile long measureUntil;
  private final AtomicLong errors = new AtomicLong();

  private ZkJavaBench(Map<String, String> options) {
    this.options = options;
    String workload = option("workload", "get");
    if (!workload.equals("get") && !workload.equals("set")) {
      throw new IllegalArgumentException("--workload: get or set, not " + workload);
    }
    this.write = workload.equals("set");
    this.keys = Integer.parseInt(option("keys", "1000"));
    this.value = new byte[Integer.parseInt(option("value-size", "100"))];
    Arrays.fill(value, (byte) 'v');
  }

  private String option(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }

  private ZKClientConfig clientConfig() {
    ZKClientConfig config = new ZKClientConfig();
    config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET,
        "org.apache.zookeeper.ClientCnxnSocketNetty");
    if (options.containsKey("secure")) {
      config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
      config.setProperty("zookeeper.ssl.keyStore.location", option("keystore", ""));
      config.setProperty("zookeeper.ssl.keyStore.type", "PEM");
      config.setProperty("zookeeper.ssl.trustStore.location", option("truststore", ""));
      config.setProperty("zookeeper.ssl.trustStore.type", "PEM");
    }
    return config;
  }

  private ZooKeeper connect() throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    Watcher watcher = event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    };
    ZooKeeper zk = new ZooKeeper(option("hosts", "127.0.0.1:2181"), 30000, watcher, false,
        clientConfig());
    if (!connected.await(30, TimeUnit.SECONDS)) {
      zk.close();
      throw new IllegalStateException("no session with " + option("hosts", "") + " in 30 s");
    }
    return zk;
  }

  private void populate(ZooKeeper zk) throws Exception {
    try {
      zk.create(ROOT, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException ignored) {
      // Left by an earlier run: reused.
    }
    for (int i = 0; i < keys; i++) {
      try {
        zk.create(key(i), value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException ignored) {
        zk.setData(key(i), value, -1);
      }
    }
  }

  private static String key(int i) {
    return ROOT + "/k" + i;
  }

  // One session's in-flight slots; every reply records its latency and sends the next request.
  private final class Session {
    private final ZooKeeper zk;
    private final long[] latencies = new long[1 << 16];
    private int recorded;
    private long completed;
    private long[] spill = new long[0];
    private int next;

    Session(ZooKeeper zk, int seed) {
      this.zk = zk;
      this.next = seed;
    }

    void start(int slots) {
      for (int i = 0; i < slots; i++) {
        send();
      }
    }

    private void send() {
      if (System.nanoTime() >= measureUntil) {
        return;
      }
      String path = key(next++ % keys);
      long sent = System.nanoTime();
      if (write) {
        zk.setData(path, value, -1, (AsyncCallback.StatCallback) (rc, p, ctx, stat) ->
            done(rc, sent), null);
      } else {
        zk.getData(path, false, (AsyncCallback.DataCallback) (rc, p, ctx, data, stat) ->
            done(rc, sent), null);
      }
    }

    // Runs on this session's event thread only, so the arrays need no lock.
    private void done(int rc, long sent) {
      long now = System.nanoTime();
      if (rc != KeeperException.Code.OK.intValue()) {
        errors.incrementAndGet();
      } else if (sent >= measureFrom && now <= measureUntil) {
        record(now - sent);
      }
      send();
    }

    private void record(long nanos) {
      completed++;
      if (recorded == latencies.length) {
        int at = spill.length;
        spill = Arrays.copyOf(spill, at + recorded);
        System.arraycopy(latencies, 0, spill, at, recorded);
        recorded = 0;
      }
      latencies[recorded++] = nanos;
    }

    long[] all() {
      long[] out = Arrays.copyOf(spill, spill.length + recorded);
      System.arraycopy(latencies, 0, out, spill.length, recorded);
      return out;
    }
  }

  private String run() throws Exception {
    int sessions = Integer.parseInt(option("sessions", "8"));
    int outstanding = Integer.parseInt(option("outstanding", "100"));
    double duration = Double.parseDouble(option("duration", "10"));
    double warmup = Double.parseDouble(option("warmup", "2"));
    List<Session> running = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      running.add(new Session(connect(), i * 7919));
    }
    populate(running.get(0).zk);
    long begin = System.nanoTime();
    measureFrom = begin + (long) (warmup * 1e9);
    measureUntil = measureFrom + (long) (duration * 1e9);
    for (Session session : running) {
      session.start(outstanding);
    }
    long waitMs = (measureUntil - System.nanoTime()) / 1_000_000 + 1;
    Thread.sleep(Math.max(waitMs, 0));  // the window's end, not a condition: nothing to poll
    long count = 0;
    List<long[]> parts = new ArrayList<>();
    for (Session session : running) {
      session.zk.close();  // after close() no callback runs, so the arrays are final
      count += session.completed;
      parts.add(session.all());
    }
    long[] all = parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    return String.format(
        "{\"workload\":\"%s\",\"client\":\"java\",\"secure\":%b,\"sessions\":%d,"
            + "\"outstanding\":%d,\"duration_s\":%.1f,\"ops\":%d,\"ops_per_sec\":%.1f,"
            + "\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"errors\":%d}",
        write ? "set" : "get", options.containsKey("secure"), sessions, outstanding, duration,
        count, count / duration, percentileUs(all, 0.50), percentileUs(all, 0.99),
        percentileUs(all, 0.999), errors.get());
  }

  private static long percentileUs(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(index, 0)] / 1000;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument: " + args[i]);
      }
      String name = args[i].substring(2);
      if (name.equals("secure")) {
        options.put(name, "true");
      } else if (i + 1 < args.length) {
        options.put(name, args[++i]);
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
    }
    return options;
  }

  public static void main(String[] args) throws Exception {
    System.out.println(new ZkJavaBench(parse(args)).run());
    System.out.flush();
    System.exit(0);
  }
}
