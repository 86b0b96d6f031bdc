package riskgraph;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.cli.AdminTool;
import org.neo4j.cli.ExecutionContext;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Result;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.Version;

/**
 * riskgraph's local Neo4j 5.26 Community server: an embedded DatabaseManagementService with
 * only the Bolt connector (127.0.0.1:PORT), authentication on, HTTP off.
 *
 * <p>Usage: {@code java -Xmx2g -cp ... riskgraph.Neo4jServer --home DIR --port N
 * --password-file FILE [--pagecache 2g]}
 *
 * <p>The password of user {@code neo4j} is read from FILE (never from the command line) and
 * applied through the system database on every start, so the file is the source of truth.
 * Prints {@code READY bolt://127.0.0.1:PORT version=V pid=P} once Bolt accepts connections and
 * shuts down cleanly on SIGTERM/SIGINT (shutdown hook).
 *
 * <p>Bulk import mode: {@code riskgraph.Neo4jServer --import --home DIR -- ARGS...} runs
 * Neo4j's own offline importer ({@code neo4j-admin database import full ARGS...}, the
 * {@code neo4j-import-tool} classes on the classpath) against the store under DIR while no
 * DBMS runs there, prints {@code IMPORTED exit=N} and exits with the importer's code. Used by
 * ingest's bulk first load into an empty local graph (ingest/bulk.py).
 */
public final class Neo4jServer {

    private Neo4jServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--import")) {
            System.exit(runImport(args));
        }
        Path home = Path.of("var/neo4j");
        int port = 7697;
        Path passwordFile = null;
        String pagecache = "2g";
        String txLogRetention = "2 files";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--home" -> { home = Path.of(require(a, v)); i++; }
                case "--port" -> { port = Integer.parseInt(require(a, v)); i++; }
                case "--password-file" -> { passwordFile = Path.of(require(a, v)); i++; }
                case "--pagecache" -> { pagecache = require(a, v); i++; }
                case "--tx-log-retention" -> { txLogRetention = require(a, v); i++; }
                default -> fail("unknown argument " + a);
            }
        }
        if (passwordFile == null) {
            fail("--password-file is required");
        }
        String password = readPassword(passwordFile);

        home = home.toAbsolutePath();
        Files.createDirectories(home);
        System.out.println("STARTING home=" + home + " port=" + port + " pagecache=" + pagecache
                + " tx_log_retention=" + txLogRetention
                + " heap=" + Runtime.getRuntime().maxMemory() / (1024 * 1024) + "m");
        System.out.flush();

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(pagecache))
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Transaction logs older than the last checkpoint are kept only this long (the
                // Neo4j default of 2 days grew to 6.7 GB beside a 433 MB store after a few loads).
                .setConfig(GraphDatabaseSettings.keep_logical_logs, txLogRetention)
                // A stop should not take 10 s of idle waiting for Bolt clients (defaults 5 s + 5 s).
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time,
                        Duration.ofSeconds(2))
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout,
                        Duration.ofSeconds(3))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("STOPPING");
            System.out.flush();
            try {
                dbms.shutdown();
            } finally {
                System.out.println("STOPPED");
                System.out.flush();
                stopped.countDown();
            }
        }, "riskgraph-neo4j-shutdown"));

        try {
            setPassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
            // Touch the default database so it is online before we announce READY.
            dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME)
                    .executeTransactionally("RETURN 1");
        } catch (RuntimeException e) {
            System.out.println("FAILED " + e);
            System.out.flush();
            System.exit(4);  // the hook shuts the DBMS down
        }

        System.out.println("READY bolt://127.0.0.1:" + port + " version=" + Version.getNeo4jVersion()
                + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        stopped.await();
    }

    /** {@code --import --home DIR -- ARGS}: neo4j-admin database import full ARGS on DIR. */
    private static int runImport(String[] args) throws IOException {
        Path home = null;
        int i = 1;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (a.equals("--home") && i + 1 < args.length) {
                home = Path.of(args[++i]);
            } else {
                fail("unknown import argument " + a);
            }
        }
        if (home == null) {
            fail("--import needs --home DIR");
        }
        home = home.toAbsolutePath();
        Path conf = home.resolve("conf");
        Files.createDirectories(conf);
        String[] command = new String[3 + args.length - i];
        command[0] = "database";
        command[1] = "import";
        command[2] = "full";
        System.arraycopy(args, i, command, 3, args.length - i);
        System.out.println("IMPORTING home=" + home + " args=" + String.join(" ", command));
        System.out.flush();
        int code = AdminTool.execute(new ExecutionContext(home, conf), command);
        System.out.println("IMPORTED exit=" + code);
        System.out.flush();
        return code;
    }

    /** Sets the password of user neo4j unless it already is {@code password}. */
    private static void setPassword(GraphDatabaseService system, String password) {
        try (Transaction tx = system.beginTx()) {
            tx.execute("ALTER USER neo4j SET PASSWORD $p CHANGE NOT REQUIRED", Map.of("p", password));
            tx.commit();
            System.out.println("PASSWORD set for user neo4j");
        } catch (RuntimeException e) {
            // Neo4j refuses to set the password it already has: that is the normal restart case.
            String msg = String.valueOf(e.getMessage());
            if (!msg.contains("Old password and new password cannot be the same")) {
                throw e;
            }
            System.out.println("PASSWORD unchanged for user neo4j");
        }
        try (Transaction tx = system.beginTx();
                Result r = tx.execute("SHOW USERS YIELD user, passwordChangeRequired "
                        + "WHERE user = 'neo4j' RETURN passwordChangeRequired")) {
            List<Map<String, Object>> rows = r.stream().toList();
            if (rows.isEmpty() || Boolean.TRUE.equals(rows.get(0).get("passwordChangeRequired"))) {
                throw new IllegalStateException("user neo4j still requires a password change");
            }
        }
    }

    private static String readPassword(Path file) throws IOException {
        String p = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (p.length() < 8) {
            fail("password in " + file + " is shorter than 8 characters");
        }
        return p;
    }

    private static String require(String name, String value) {
        if (value == null) {
            fail(name + " needs a value");
        }
        return value;
    }

    private static void fail(String message) {
        System.err.println("FAILED " + message);
        System.exit(2);
    }
}
