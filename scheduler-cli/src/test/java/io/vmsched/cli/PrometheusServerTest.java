package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryMember;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, which {@code .ci/run} installs) scrapes a
 * real {@code vmsched node --metrics-port} every second, both on the loopback address; the test asks
 * Prometheus's HTTP API for what the node published (its VM count: the guests the test had it admit) until
 * it answers, within a deadline. Without a Prometheus binary the test is reported skipped with the reason.
 * Every process it starts is stopped.
 */
@Timeout(300)
class PrometheusServerTest
{
    private static final String LOOPBACK = "127.0.0.1";
    private static final Pattern START_LINE_URL = Pattern.compile("metrics (http://127\\.0\\.0\\.1:(\\d+)/metrics);");
    private static final Pattern VALUE = Pattern.compile("\"value\":\\[[0-9.e+]+,\"([^\"]*)\"\\]");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** @return the Prometheus server's binary, or null if this machine has none. */
    static String prometheus()
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "prometheus")))
            {
                return Path.of(dir, "prometheus").toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/bin/prometheus")) ? "/usr/bin/prometheus" : null;
    }

    @Test
    void prometheusScrapesANodeAndAnswersWithItsVmCount(@TempDir final Path dir) throws Exception
    {
        final String binary = prometheus();
        Assumptions.assumeTrue(binary != null, "no prometheus binary on the PATH or at /usr/bin/prometheus: install " +
            "Debian's prometheus package to run this test (.ci/run does)");
        final int guests = 3;
        try (Children children = new Children(15_000))
        {
            final Path nodeLog = dir.resolve("node.log");
            final Process node = children.start(nodeLog, "node", "--data", dir.resolve("data").toString(),
                "--guests", Integer.toString(guests), "--metrics-port", "0");
            final int metricsPort = Integer.parseInt(startLine(node, nodeLog).group(2));
            final Path prometheusLog = dir.resolve("prometheus.log");
            final PrometheusServer server = PrometheusServer.start(binary, dir, List.of(metricsPort));
            try
            {
                // what the node published, as Prometheus answers it after scraping
                final String api = server.api;
                assertEquals(Integer.toString(guests), awaitValue(api, "vmsched_vms{host=\"0\"}", Integer.toString(guests),
                    List.of(node), List.of(nodeLog), prometheusLog), "the node's VM count");
                assertEquals("1", awaitValue(api, "up{job=\"vmsched\"}", "1", List.of(node), List.of(nodeLog), prometheusLog));
                assertEquals("0", query(api, "vmsched_migrations_total{outcome=\"committed\"}"));
                assertEquals("0", query(api, "vmsched_handoff_duration_seconds_count"));
                assertEquals("0", query(api, "sum(vmsched_migration_aborts_total)"));
                final double load = Double.parseDouble(query(api, "vmsched_host_resource_load{host=\"0\",resource=\"cpu\"}"));
                assertTrue(load >= 0 && load < 64, "cpu load " + load);
            }
            finally
            {
                server.close();
            }
            children.stop(node); // SIGTERM
            assertTrue(read(nodeLog).contains("vmsched node: stopped cleanly"), read(nodeLog));
        }
    }

    @Test
    void prometheusScrapesTheNodesOfAClusterAcrossProcessesAndSeesTheirHandoffs(@TempDir final Path dir) throws Exception
    {
        final String binary = prometheus();
        Assumptions.assumeTrue(binary != null, "no prometheus binary on the PATH or at /usr/bin/prometheus: install " +
            "Debian's prometheus package to run this test (.ci/run does)");
        final Path secret = dir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final String registry = "0=" + LOOPBACK + ":" + Children.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        try (Children children = new Children(15_000))
        {
            children.start(dir.resolve("registry.log"), "registry", "--id", "0", "--members", registry,
                "--secret", secret.toString(), "--data", dir.resolve("registry").toString(), "--session-timeout-ms", "5000");
            final List<Process> nodes = new ArrayList<>();
            final List<Integer> ports = new ArrayList<>();
            final List<Path> logs = new ArrayList<>();
            for (final String name : List.of("a", "b"))
            {
                final Path log = dir.resolve(name + ".log");
                final Process node = children.start(log, "node", "--registry", registry, "--name", name,
                    "--bind", LOOPBACK + ":" + Children.freeUdpPorts(1), "--secret", secret.toString(),
                    "--data", dir.resolve(name).toString(), "--guests", name.equals("a") ? "4" : "0",
                    "--guest-load", "0.2", "--balance-period-ms", "200", "--registry-wait-s", "120", "--metrics-port", "0");
                nodes.add(node);
                logs.add(log);
                ports.add(Integer.parseInt(startLine(node, log).group(2)));
            }
            final Path prometheusLog = dir.resolve("prometheus.log");
            final PrometheusServer server = PrometheusServer.start(binary, dir, ports);
            try
            {
                assertEquals("2", awaitValue(server.api, "count(up{job=\"vmsched\"} == 1)", "2", nodes, logs, prometheusLog),
                    "both nodes scraped");
                assertEquals("4", awaitValue(server.api, "sum(vmsched_vms)", "4", nodes, logs, prometheusLog),
                    "every VM on one node or the other");
                // node a sheds to node b: committed handoffs, counted and timed at their source
                awaitValue(server.api, "sum(vmsched_migrations_total{outcome=\"committed\"}) > bool 0", "1", nodes, logs,
                    prometheusLog);
                final double handoffs = Double.parseDouble(query(server.api, "sum(vmsched_handoff_duration_seconds_count)"));
                assertTrue(handoffs >= 1, "handoffs timed: " + handoffs);
                assertEquals("2", query(server.api, "count(vmsched_host_load)"), "one host per node");
            }
            finally
            {
                server.close();
            }
        }
    }

    /** A Prometheus server scraping targets on the loopback address every second, its storage in a temporary directory. */
    private static final class PrometheusServer implements AutoCloseable
    {
        final Process process;
        final String api;

        private PrometheusServer(final Process process, final int port)
        {
            this.process = process;
            this.api = "http://" + LOOPBACK + ":" + port;
        }

        static PrometheusServer start(final String binary, final Path dir, final List<Integer> metricsPorts) throws Exception
        {
            final StringBuilder targets = new StringBuilder();
            for (final int port : metricsPorts)
            {
                targets.append(targets.length() == 0 ? "" : ", ").append('\'').append(LOOPBACK).append(':').append(port).append('\'');
            }
            final Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "  evaluation_interval: 1s",
                "scrape_configs:",
                "  - job_name: vmsched",
                "    static_configs:",
                "      - targets: [" + targets + "]",
                ""), StandardCharsets.UTF_8);
            final Path log = dir.resolve("prometheus.log");
            for (int attempt = 0; attempt < 3; attempt++)
            {
                final int port = freeTcpPort();
                final Process started = new ProcessBuilder(binary, "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("tsdb-" + attempt), "--web.listen-address=" + LOOPBACK + ":" + port,
                    "--log.level=warn")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                if (ready(started, port))
                {
                    return new PrometheusServer(started, port);
                }
                stop(started); // the port was taken meanwhile, most likely: another one
            }
            throw new AssertionError("prometheus did not start: " + read(log));
        }

        @Override
        public void close() throws InterruptedException
        {
            stop(process);
        }
    }

    /** Wait for the node's start line, naming its metrics endpoint. */
    private static Matcher startLine(final Process node, final Path log) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true)
        {
            final Matcher m = START_LINE_URL.matcher(read(log));
            if (m.find())
            {
                return m;
            }
            assertTrue(node.isAlive(), "the node exited: " + read(log));
            assertTrue(System.nanoTime() - deadline < 0, "no start line from the node: " + read(log));
            LockSupport.parkNanos(20_000_000L);
        }
    }

    /** Wait until Prometheus answers its readiness check; false if it exited first (its port taken). */
    private static boolean ready(final Process prometheus, final int port)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() - deadline < 0)
        {
            if (!prometheus.isAlive())
            {
                return false;
            }
            try
            {
                if (get("http://" + LOOPBACK + ":" + port + "/-/ready").statusCode() == 200)
                {
                    return true;
                }
            }
            catch (final IOException ex)
            {
                // not listening yet
            }
            LockSupport.parkNanos(100_000_000L);
        }
        return false;
    }

    /** Ask Prometheus until the query's one result has the value expected; return the last value seen. */
    private static String awaitValue(final String api, final String query, final String expected, final List<Process> nodes,
        final List<Path> nodeLogs, final Path prometheusLog) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String value = null;
        while (!expected.equals(value))
        {
            for (final Process node : nodes)
            {
                assertTrue(node.isAlive(), "a node exited: " + read(nodeLogs));
            }
            assertTrue(System.nanoTime() - deadline < 0, "Prometheus never answered " + query + " = " + expected +
                " (last: " + value + ")\nprometheus log:\n" + read(prometheusLog) + "\nnode logs:\n" + read(nodeLogs));
            LockSupport.parkNanos(200_000_000L);
            value = query(api, query);
        }
        return value;
    }

    /** @return the value of the query's single result now, or null if it has none yet. */
    private static String query(final String api, final String query) throws IOException
    {
        final HttpResponse<String> response = get(api + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        final String body = response.body();
        assertEquals(200, response.statusCode(), body);
        assertTrue(body.contains("\"status\":\"success\""), body);
        final Matcher m = VALUE.matcher(body);
        if (!m.find())
        {
            return null;
        }
        final String value = m.group(1);
        assertFalse(m.find(), "one result for " + query + ": " + body);
        return value;
    }

    private static HttpResponse<String> get(final String url) throws IOException
    {
        try
        {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }

    private static int freeTcpPort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK)))
        {
            return socket.getLocalPort();
        }
    }

    private static void stop(final Process process) throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String read(final List<Path> files) throws IOException
    {
        final StringBuilder text = new StringBuilder();
        for (final Path file : files)
        {
            text.append(file.getFileName()).append(":\n").append(read(file));
        }
        return text.toString();
    }

    private static String read(final Path file) throws IOException
    {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
