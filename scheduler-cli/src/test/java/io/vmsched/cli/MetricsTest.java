package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.Faults;
import io.vmsched.guest.IdleGuest;
import io.vmsched.placement.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Prometheus endpoint scraped as Prometheus does, over HTTP: every metric family with its type and
 * labels, the values an embedded cluster's run gives (VMs per host, committed and aborted migrations with
 * the abort's reason, the handoff histogram, a service's status, a rule's violations); and the flags'
 * mistakes, one line each, nothing left listening.
 */
class MetricsTest extends CommandTest
{
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    static String scrape(final String url) throws IOException, InterruptedException
    {
        final HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    private static String scraped(final String url)
    {
        try
        {
            return scrape(url);
        }
        catch (final IOException | InterruptedException ex)
        {
            throw new AssertionError(url + ": " + ex, ex);
        }
    }

    private static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            LockSupport.parkNanos(5_000_000L);
        }
    }

    @Test
    void aScrapeHasEveryFamilyWithTheClustersFigures(@TempDir final Path dir) throws Exception
    {
        final AtomicBoolean failNextReceive = new AtomicBoolean();
        final ClusterConfig config = ClusterConfig.of(3, dir.resolve("data"));
        config.host.balancing = false;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.handoffTimeoutNs = 200_000_000L;
        config.host.scheduleCapacity = 64;
        config.host.inboxBytes = 64 * 1024;
        config.watchPeriodNs = 20_000_000L;
        config.faults = (point, host, migrationId) -> point == Faults.Point.TARGET_AFTER_RECEIVED &&
            failNextReceive.compareAndSet(true, false) ? Faults.Action.THROW : Faults.Action.PROCEED;
        try (Metrics metrics = Metrics.start("127.0.0.1", 0))
        {
            config.listener = metrics.listener(new ClusterListener()
            {
            });
            final String url = metrics.url();
            assertEquals("http://127.0.0.1:" + metrics.port() + "/metrics", url);
            assertTrue(scrape(url).contains("vmsched_migrations_total{outcome=\"committed\"} 0"), "served before the cluster starts");
            try (Cluster cluster = Cluster.start(config))
            {
                metrics.watch(cluster, 0, 1, 2);
                for (long vm = 1; vm <= 5; vm++)
                {
                    cluster.admit(0, vm, 1, new IdleGuest());
                }
                await("admissions", () -> cluster.host(0).vmCount() == 5);
                cluster.migrate(1, 1);
                cluster.migrate(2, 2);
                await("two commits", () -> cluster.migrationsCommitted() == 2);
                failNextReceive.set(true);
                cluster.migrate(3, 1);
                await("an abort", () -> cluster.migrationsAborted() == 1);
                cluster.defineService("web", 2, 1);
                cluster.addToService("web", 4, 5);
                await("web healthy", () -> scraped(url).contains("vmsched_service_status{service=\"web\"} 0.0\n"));
                cluster.addRule(Rule.antiAffinity("apart", false, 4, 5)); // both on host 0: broken by both
                final String text = scrape(url);

                for (final String family : List.of("vmsched_host_load gauge", "vmsched_host_resource_load gauge",
                    "vmsched_vms gauge", "vmsched_migrations_total counter", "vmsched_migration_aborts_total counter",
                    "vmsched_handoff_duration_seconds histogram", "vmsched_service_status gauge",
                    "vmsched_rule_violations gauge"))
                {
                    assertTrue(text.contains("# TYPE " + family + "\n"), family + " in\n" + text);
                }
                assertTrue(text.contains("vmsched_vms{host=\"0\"} 3.0\n"), text);
                assertTrue(text.contains("vmsched_vms{host=\"1\"} 1.0\n"), text);
                assertTrue(text.contains("vmsched_vms{host=\"2\"} 1.0\n"), text);
                for (int host = 0; host < 3; host++)
                {
                    assertTrue(text.contains("vmsched_host_load{host=\"" + host + "\"} "), text);
                    for (final String resource : List.of("cpu", "io", "memory"))
                    {
                        assertTrue(text.contains("vmsched_host_resource_load{host=\"" + host + "\",resource=\"" + resource + "\"} "),
                            host + " " + resource + " in\n" + text);
                    }
                }
                assertTrue(text.contains("vmsched_migrations_total{outcome=\"committed\"} 2.0\n"), text);
                assertTrue(text.contains("vmsched_migrations_total{outcome=\"aborted\"} 1.0\n"), text);
                assertTrue(text.contains("vmsched_migration_aborts_total{reason=\"target-did-not-activate\"} 1.0\n"), text);
                assertTrue(text.contains("vmsched_migration_aborts_total{reason=\"placement-refused\"} 0.0\n"), text);
                assertTrue(text.contains("vmsched_handoff_duration_seconds_count 2\n"), text);
                assertTrue(text.contains("vmsched_handoff_duration_seconds_bucket{le=\"+Inf\"} 2\n"), text);
                assertTrue(text.contains("vmsched_service_status{service=\"web\"} 1.0\n"), "degraded by the soft rule: " + text);
                assertTrue(text.contains("vmsched_rule_violations{rule=\"apart\"} 2.0\n"), text);

                cluster.remove(5); // the rule holds again; the service is one VM short of its size, above its minimum
                await("the rule kept", () -> scraped(url).contains("vmsched_rule_violations{rule=\"apart\"} 0.0\n"));
                assertTrue(scrape(url).contains("vmsched_service_status{service=\"web\"} 1.0\n"), "still degraded");
                assertEquals(io.vmsched.placement.ServiceHealth.DEGRADED, cluster.status().services().get(0).health());
                assertEquals("1 VMs running of its size 2", cluster.status().services().get(0).cause());
            }
        }
    }

    @Test
    void theFlagsMistakesAreOneLineEachAndChangeNothing(@TempDir final Path dir) throws IOException
    {
        final Path data = dir.resolve("data");
        assertEquals(2, run("node", "--data", data.toString(), "--metrics-port", "65536"));
        assertEquals("vmsched node: --metrics-port must be in [0, 65535], got 65536", err.toString().trim());
        assertEquals(2, run("node", "--data", data.toString(), "--metrics-port", "-1"));
        assertEquals("vmsched node: --metrics-port must be in [0, 65535], got -1", err.toString().trim());
        assertEquals(2, run("node", "--data", data.toString(), "--metrics-port", "0", "--metrics-bind", "no-such-host.invalid"));
        assertEquals("vmsched node: --metrics-bind 'no-such-host.invalid': not an address or a known host name",
            err.toString().trim());
        assertEquals(2, run("node", "--data", data.toString(), "--metrics-port", "0", "--metrics-bind", "192.0.2.1"));
        assertTrue(err.toString().trim().startsWith("vmsched node: --metrics-bind '192.0.2.1': cannot listen there ("),
            err.toString());
        assertEquals(1, err.toString().trim().lines().count(), err.toString());
        assertEquals(2, run("node", "--data", data.toString(), "--metrics-bind", "127.0.0.1"));
        assertEquals("vmsched node: --metrics-bind needs --metrics-port", err.toString().trim());
        assertEquals(2, run("demo", "--data", data.toString(), "--metrics-port", "70000"));
        assertEquals("vmsched demo: --metrics-port must be in [0, 65535], got 70000", err.toString().trim());
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1")))
        {
            final int port = taken.getLocalPort();
            assertEquals(1, run("node", "--data", data.toString(), "--metrics-port", Integer.toString(port)));
            assertEquals("vmsched node: --metrics-port " + port + ": the port is in use on 127.0.0.1 (another node's metrics?)",
                err.toString().trim());
        }
        assertFalse(Files.exists(data), "a refused start changes nothing on disk");
    }
}
