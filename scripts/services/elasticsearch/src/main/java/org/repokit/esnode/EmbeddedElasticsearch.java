package org.repokit.esnode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * A real Elasticsearch node in this JVM, for repokit's tests and demo.
 *
 * <p>Usage: {@code EmbeddedElasticsearch <home> <httpPort> <transportPort> [key=value ...]}.
 * {@code <home>} must contain {@code config/log4j2.properties}; data and logs go under it.
 * Extra {@code key=value} arguments are added to the node settings, over the defaults: a
 * single node by default ({@code discovery.type=single-node}); elasticsearch.sh makes the nodes
 * of a cluster with {@code node.name}, {@code discovery.type=zen}, {@code discovery.seed_hosts}
 * and {@code cluster.initial_master_nodes}. The node listens on 127.0.0.1 only. SIGTERM
 * closes the node cleanly (its data stays on disk).
 *
 * <p>{@link Node}'s protected constructor is the only way to hand it plugins that live on
 * the classpath rather than in a plugins directory; Netty4 provides HTTP and transport.
 */
public final class EmbeddedElasticsearch extends Node {

    private static final String NODE_NAME = "repokit-es";

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class);

    private EmbeddedElasticsearch(Environment environment) {
        super(environment, PLUGINS, true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: EmbeddedElasticsearch <home> <httpPort> <transportPort> [key=value ...]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath().normalize();
        int httpPort = Integer.parseInt(args[1]);
        int transportPort = Integer.parseInt(args[2]);

        Settings.Builder builder = Settings.builder()
            .put("cluster.name", "repokit")
            .put("node.name", NODE_NAME)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.host", "127.0.0.1")
            .put("transport.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            // Tests must not be blocked by a nearly full disk on a build machine.
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("setting argument must be key=value, got: " + args[i]);
                System.exit(2);
            }
            builder.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        Settings settings = builder.build();
        String nodeName = settings.get("node.name", NODE_NAME);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> nodeName);
        // %node_name in log patterns needs the name before logging is configured.
        LogConfigurator.setNodeName(nodeName);
        // Reads config/log4j2.properties (and sets es.logs.* system properties) as the
        // distribution's bootstrap does.
        LogConfigurator.configure(environment);

        EmbeddedElasticsearch node = new EmbeddedElasticsearch(environment);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                    System.err.println("node did not close within 30s");
                }
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            }
        }, "repokit-es-shutdown"));

        node.start();
        Files.write(home.resolve("started"),
            (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8));
        System.out.println("repokit: elasticsearch node started, http://127.0.0.1:" + httpPort);
        System.out.flush();
        closed.await();
    }
}
