package io.vmsched.cli;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.HostRuntime;
import io.vmsched.cluster.Request;
import io.vmsched.journal.AbortReason;
import io.vmsched.load.HostCapacity;
import io.vmsched.placement.ServiceStatus;
import io.vmsched.placement.StatusReport;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The Prometheus endpoint of {@code vmsched node} and {@code vmsched demo} ({@code --metrics-port},
 * {@code --metrics-bind}): the official Prometheus Java client's {@link HTTPServer} serving {@code /metrics}
 * from a registry of its own. What it publishes:
 * <ul>
 * <li>gauges read when scraped: each host's load ({@code vmsched_host_load{host}}), its load per resource
 * ({@code vmsched_host_resource_load{host,resource}}, cpu / io / memory, each a fraction of the host's
 * capacity of it), its VMs ({@code vmsched_vms{host}}), each service's status
 * ({@code vmsched_service_status{service}}: 0 healthy, 1 degraded, 2 failed) and each rule's violations
 * ({@code vmsched_rule_violations{rule}}: the VMs breaking it, 0 while it holds), the last two from one
 * {@link Cluster#status()} a scrape (as {@code vmsched status} computes it);</li>
 * <li>counted by the cluster's listener, at the source of each migration: migrations by outcome
 * ({@code vmsched_migrations_total{outcome}}), aborts by coded reason
 * ({@code vmsched_migration_aborts_total{reason}}), and the handoff's latency from MIGRATION_INTENT to
 * COMMITTED ({@code vmsched_handoff_duration_seconds}, a histogram).</li>
 * </ul>
 * The listener allocates nothing: every label's data point is looked up once, here; a handoff's commit
 * costs two counter increments and a histogram observation.
 * <p>
 * Threadsafe: the listener runs on the host agents' threads, the gauges on the HTTP server's.
 */
final class Metrics implements AutoCloseable
{
    /** The default of {@code --metrics-bind}: this machine only. */
    static final String LOOPBACK = "127.0.0.1";
    /** Handoff latency buckets, seconds: a handoff takes milliseconds, a stalled one the timeout (0.5 s) or more. */
    private static final double[] HANDOFF_BUCKETS =
        {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final String[] RESOURCES = {"cpu", "io", "memory"};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final HTTPServer server;
    private final String address;
    private final CounterDataPoint committed;
    private final CounterDataPoint aborted;
    private final CounterDataPoint[] abortsByReason = new CounterDataPoint[AbortReason.values().length];
    private final Histogram handoff;

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Cluster cluster;
    private volatile HostRuntime[] hosts = new HostRuntime[0];

    private Metrics(final InetAddress bind, final int port) throws IOException
    {
        final Counter migrations = Counter.builder().name("vmsched_migrations_total")
            .help("Migrations this process's hosts sourced, by outcome (committed: the VM runs at the target; " +
                "aborted: it runs on at the source)")
            .labelNames("outcome").withoutExemplars().register(registry);
        committed = migrations.labelValues("committed");
        aborted = migrations.labelValues("aborted");
        final Counter aborts = Counter.builder().name("vmsched_migration_aborts_total")
            .help("Migrations aborted at their source, by coded reason (the ABORTED record's)")
            .labelNames("reason").withoutExemplars().register(registry);
        for (final AbortReason reason : AbortReason.values())
        {
            abortsByReason[reason.ordinal()] = aborts.labelValues(reason.label());
        }
        handoff = Histogram.builder().name("vmsched_handoff_duration_seconds")
            .help("Committed handoffs' latency, from MIGRATION_INTENT to COMMITTED at the source")
            .unit(Unit.SECONDS).classicOnly().classicUpperBounds(HANDOFF_BUCKETS).withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("vmsched_host_load")
            .help("Each host's load as the balancer compares it: weighted CPU, I/O and memory, a fraction of its capacity")
            .labelNames("host").callback(callback ->
            {
                for (final HostRuntime host : hosts)
                {
                    callback.call(host.load(), Integer.toString(host.hostId()));
                }
            }).register(registry);
        GaugeWithCallback.builder().name("vmsched_host_resource_load")
            .help("Each host's usage of one resource as its last sample measured it, a fraction of its capacity of it " +
                "(cpu: reference cores over cores x speed; io: bytes/s over its bandwidth; memory: bytes over its memory)")
            .labelNames("host", "resource").callback(callback ->
            {
                for (final HostRuntime host : hosts)
                {
                    final HostCapacity c = host.capacity();
                    final String id = Integer.toString(host.hostId());
                    callback.call(host.usedCpuCores() / c.cpuCapacity(), id, RESOURCES[0]);
                    callback.call(host.usedIoBytesPerSecond() / c.ioBytesPerSecond(), id, RESOURCES[1]);
                    callback.call(host.usedMemoryBytes() / c.memoryBytes(), id, RESOURCES[2]);
                }
            }).register(registry);
        GaugeWithCallback.builder().name("vmsched_vms")
            .help("VMs on each host (those migrating away included)")
            .labelNames("host").callback(callback ->
            {
                for (final HostRuntime host : hosts)
                {
                    callback.call(host.vmCount(), Integer.toString(host.hostId()));
                }
            }).register(registry);
        registry.register((MultiCollector)this::status);
        server = HTTPServer.builder().inetAddress(bind).port(port).registry(registry).buildAndStart();
        address = bind.getHostAddress();
    }

    /**
     * Check the flags and start serving (before the cluster starts: a refused start changes nothing on disk).
     *
     * @param bind the address to listen on ({@code --metrics-bind}).
     * @param port the TCP port ({@code --metrics-port}; 0 for any free one).
     * @return the endpoint, serving (no host's figures until {@link #watch}).
     * @throws IllegalArgumentException naming the flag: a port out of range, an address that is none of this machine's.
     * @throws IllegalStateException    naming the flag: the port is in use.
     */
    static Metrics start(final String bind, final int port)
    {
        Flags.within("--metrics-port", port, 0, 65_535);
        final InetAddress address;
        try
        {
            address = InetAddress.getByName(bind);
        }
        catch (final UnknownHostException | SecurityException ex)
        {
            throw new IllegalArgumentException("--metrics-bind '" + bind + "': not an address or a known host name");
        }
        try
        {
            return new Metrics(address, port);
        }
        catch (final BindException ex)
        {
            final String why = String.valueOf(ex.getMessage());
            if (why.contains("in use"))
            {
                throw new IllegalStateException("--metrics-port " + port + ": the port is in use on " +
                    address.getHostAddress() + " (another node's metrics?)");
            }
            throw new IllegalArgumentException("--metrics-bind '" + bind + "': cannot listen there (" + why +
                "): give an address of this machine");
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("--metrics-port " + port + ": cannot listen on " + address.getHostAddress() +
                " (" + ex.getMessage() + ")");
        }
    }

    /**
     * @param next the listener to tell as well (after the counting).
     * @return a listener that counts migrations, aborts and handoff latency, and passes every call to {@code next}.
     */
    ClusterListener listener(final ClusterListener next)
    {
        return new ClusterListener()
        {
            @Override
            public void onAdmitted(final int host, final long vmId)
            {
                next.onAdmitted(host, vmId);
            }

            @Override
            public void onRemoved(final int host, final long vmId)
            {
                next.onRemoved(host, vmId);
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                committed.inc();
                handoff.observe(durationNs / 1e9);
                next.onMigrated(vmId, source, target, durationNs);
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final String reason)
            {
                next.onAborted(vmId, source, target, reason);
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final AbortReason reason,
                final String detail)
            {
                aborted.inc();
                abortsByReason[reason.ordinal()].inc();
                next.onAborted(vmId, source, target, reason, detail);
            }

            @Override
            public void onRequestFailed(final int host, final Request request, final long vmId, final String reason)
            {
                next.onRequestFailed(host, request, vmId, reason);
            }

            @Override
            public void onError(final int host, final Throwable error)
            {
                next.onError(host, error);
            }

            @Override
            public void onServiceStatus(final ServiceStatus status)
            {
                next.onServiceStatus(status);
            }
        };
    }

    /**
     * Publish a cluster's figures from now on.
     *
     * @param cluster the cluster (its services and rules).
     * @param hostIds the hosts this process runs (a node's own; every host of an embedded cluster).
     */
    void watch(final Cluster cluster, final int... hostIds)
    {
        final HostRuntime[] runtimes = new HostRuntime[hostIds.length];
        for (int i = 0; i < hostIds.length; i++)
        {
            runtimes[i] = cluster.host(hostIds[i]);
        }
        this.cluster = cluster;
        this.hosts = runtimes;
    }

    /** @return the port it listens on (the one chosen, for {@code --metrics-port 0}). */
    int port()
    {
        return server.getPort();
    }

    /** @return the endpoint's address, for the start line. */
    String url()
    {
        final String host = address.contains(":") ? "[" + address + "]" : address;
        return "http://" + host + ":" + port() + "/metrics";
    }

    /** The services' status and the rules' violations, both from one status report a scrape (the HTTP server's threads). */
    private MetricSnapshots status()
    {
        final Cluster c = cluster;
        StatusReport report = new StatusReport(List.of(), List.of());
        try
        {
            if (c != null)
            {
                report = c.status();
            }
        }
        catch (final IllegalStateException ex)
        {
            // closing: nothing to report
        }
        final GaugeSnapshot.Builder services = GaugeSnapshot.builder().name("vmsched_service_status")
            .help("Each service's status: 0 healthy, 1 degraded, 2 failed");
        for (final StatusReport.ServiceReport s : report.services())
        {
            services.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(s.health().ordinal())
                .labels(Labels.of("service", s.service().name())).build());
        }
        final GaugeSnapshot.Builder rules = GaugeSnapshot.builder().name("vmsched_rule_violations")
            .help("Each placement rule's violations: the VMs that break it where they run (0: it holds)");
        for (final StatusReport.RuleReport r : report.rules())
        {
            rules.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .value(r.holds() ? 0 : Math.max(1, r.breaking().size())).labels(Labels.of("rule", r.rule().name())).build());
        }
        return MetricSnapshots.of(services.build(), rules.build());
    }

    /** Stop serving. Idempotent. */
    @Override
    public void close()
    {
        if (closed.compareAndSet(false, true))
        {
            server.close();
        }
    }
}
