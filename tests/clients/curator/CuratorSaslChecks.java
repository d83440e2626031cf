// Apache Curator with SASL against one server: one line per check on stdout, "RESULT <check>
// PASS" or "RESULT <check> FAIL <why>". Driven by tests/clients/test_curator_sasl.py.
//
// Usage: java -Djava.security.auth.login.config=<client JAAS file> CuratorSaslChecks
//            <connect string> <sasl user> [check ...]
// The JAAS file's "Client" section logs in as <sasl user>; its "BadClient" section with a wrong
// password. Every check makes its own clients and waits for conditions with a deadline.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

public final class CuratorSaslChecks {
  private static final Duration CHECK_DEADLINE = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final int SESSION_TIMEOUT_MS = 4000;
  private static final int CONNECTION_TIMEOUT_MS = 10000;

  private final String connect;
  private final String user;
  private final String root = "/curator-sasl-" + System.nanoTime();

  private CuratorSaslChecks(String connect, String user) {
    this.connect = connect;
    this.user = user;
  }

  @FunctionalInterface
  private interface Check {
    void run() throws Exception;
  }

  private static final class CheckFailed extends Exception {
    CheckFailed(String why) {
      super(why);
    }
  }

  private static void require(boolean condition, String why) throws CheckFailed {
    if (!condition) throw new CheckFailed(why);
  }

  /** A client logging in with the JAAS section `section`, or without SASL when it is null. */
  private static ZKClientConfig clientConfig(String section) {
    ZKClientConfig config = new ZKClientConfig();
    if (section == null) {
      config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
    } else {
      config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
    }
    return config;
  }

  private CuratorFramework curator(String section) throws Exception {
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(SESSION_TIMEOUT_MS)
            .connectionTimeoutMs(CONNECTION_TIMEOUT_MS)
            .retryPolicy(new RetryOneTime(200))
            .zkClientConfig(clientConfig(section))
            .build();
    client.start();
    require(
        client.blockUntilConnected((int) WAIT.toSeconds(), TimeUnit.SECONDS),
        "no connection within " + WAIT);
    return client;
  }

  private static List<ACL> onlyUser(String user) {
    return List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", user)));
  }

  /** The Client section's user creates a node only it may read, and the server says who it is. */
  private void saslIdentityAndAcl() throws Exception {
    try (CuratorFramework client = curator("Client")) {
      // whoAmI answers once the exchange is done; the first write waits for it as well.
      client.create().creatingParentsIfNeeded().withACL(onlyUser(user)).forPath(
          root + "/mine", "secret".getBytes(StandardCharsets.UTF_8));
      List<ClientInfo> ids = client.getZookeeperClient().getZooKeeper().whoAmI();
      require(
          ids.stream().anyMatch(i -> i.getAuthScheme().equals("sasl") && i.getUser().equals(user)),
          "whoAmI gave " + describe(ids) + ", not sasl:" + user);
      byte[] data = client.getData().forPath(root + "/mine");
      require(new String(data, StandardCharsets.UTF_8).equals("secret"), "read back other data");
    }
    try (CuratorFramework anonymous = curator(null)) {
      try {
        anonymous.getData().forPath(root + "/mine");
        throw new CheckFailed("a client without SASL read a sasl:" + user + " node");
      } catch (KeeperException.NoAuthException expected) {
        // as it must
      }
    }
  }

  /** A wrong password ends in AuthFailed for the session, as ZooKeeper's client reports it. */
  private void wrongPasswordIsAuthFailed() throws Exception {
    BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
    ZooKeeper zk =
        new ZooKeeper(
            connect, SESSION_TIMEOUT_MS, e -> states.add(e.getState()), clientConfig("BadClient"));
    try {
      long deadline = System.nanoTime() + WAIT.toNanos();
      Watcher.Event.KeeperState state = null;
      while (state != Watcher.Event.KeeperState.AuthFailed) {
        state = states.poll(Math.max(deadline - System.nanoTime(), 0), TimeUnit.NANOSECONDS);
        require(state != null, "no AuthFailed event within " + WAIT);
        require(state != Watcher.Event.KeeperState.SaslAuthenticated, "authenticated anyway");
      }
      require(zk.getState() == ZooKeeper.States.AUTH_FAILED, "client state " + zk.getState());
    } finally {
      zk.close();
    }
  }

  /** Curator's recipes work over a SASL session: a lock, taken and released. */
  private void lockOverSasl() throws Exception {
    try (CuratorFramework client = curator("Client")) {
      InterProcessMutex mutex = new InterProcessMutex(client, root + "/lock");
      require(mutex.acquire(WAIT.toSeconds(), TimeUnit.SECONDS), "lock not acquired");
      require(mutex.isOwnedByCurrentThread(), "lock not held after acquire");
      mutex.release();
      require(
          client.getChildren().forPath(root + "/lock").isEmpty(), "lock node left after release");
    }
  }

  /** Where the server requires SASL, a session without it is closed on its first request. */
  private void requiredSaslClosesOthers() throws Exception {
    ZooKeeper zk = new ZooKeeper(connect, SESSION_TIMEOUT_MS, e -> {}, clientConfig(null));
    try {
      zk.exists("/", false);
      throw new CheckFailed("a session without SASL was served");
    } catch (KeeperException.SessionClosedRequireAuthException expected) {
      // SESSIONCLOSEDREQUIRESASLAUTH, as ZooKeeper answers it
    } catch (KeeperException.ConnectionLossException lost) {
      throw new CheckFailed("the connection was lost, not closed with SESSIONCLOSEDREQUIRESASLAUTH");
    } finally {
      zk.close();
    }
  }

  private static String describe(List<ClientInfo> ids) {
    StringBuilder out = new StringBuilder("[");
    for (ClientInfo id : ids) out.append(id.getAuthScheme()).append(':').append(id.getUser()).append(' ');
    return out.append(']').toString();
  }

  private Check named(String name) {
    switch (name) {
      case "sasl_identity_and_acl":
        return this::saslIdentityAndAcl;
      case "wrong_password_is_auth_failed":
        return this::wrongPasswordIsAuthFailed;
      case "lock_over_sasl":
        return this::lockOverSasl;
      case "required_sasl_closes_others":
        return this::requiredSaslClosesOthers;
      default:
        return null;
    }
  }

  private static String oneLine(Throwable t) {
    String text = t.getClass().getSimpleName() + ": " + t.getMessage();
    return text.replace('\n', ' ');
  }

  public static void main(String[] args) throws Exception {
    CuratorSaslChecks checks = new CuratorSaslChecks(args[0], args[1]);
    ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "check");
      t.setDaemon(true);
      return t;
    });
    for (int i = 2; i < args.length; i++) {
      String name = args[i];
      Check check = checks.named(name);
      if (check == null) {
        System.out.println("RESULT " + name + " FAIL no such check");
        continue;
      }
      Future<?> done = runner.submit(() -> {
        check.run();
        return null;
      });
      try {
        done.get(CHECK_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        System.out.println("RESULT " + name + " PASS");
      } catch (TimeoutException e) {
        done.cancel(true);
        System.out.println("RESULT " + name + " FAIL timed out after " + CHECK_DEADLINE);
      } catch (java.util.concurrent.ExecutionException e) {
        System.out.println("RESULT " + name + " FAIL " + oneLine(e.getCause()));
      }
      System.out.flush();
    }
    runner.shutdownNow();
    System.exit(0);
  }
}
