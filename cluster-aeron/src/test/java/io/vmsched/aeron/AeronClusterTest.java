package io.vmsched.aeron;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.guest.IdleGuest;
import io.vmsched.load.ClusterStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The embedded cluster with each host on its own {@link AeronTransport} (its own media driver and
 * loopback endpoint, every frame authenticated): the balancer's exchanges and every handoff message
 * cross real UDP. A skewed placement balances, every VM ends on exactly one host, and a restart on
 * fresh transports recovers them all.
 */
class AeronClusterTest
{
    private static final int HOSTS = 3;
    private static final int VMS = 48;

    private static ClusterConfig config(final Path dir, final int[] ports, final byte[] secret, final List<AeronTransport> made)
    {
        final ClusterConfig config = ClusterConfig.of(HOSTS, dir);
        config.host.balancing = true;
        config.host.balancePeriodNs = 50_000_000L;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.handoffTimeoutNs = 1_000_000_000L;
        config.host.scheduleCapacity = 256;
        config.transports = id ->
        {
            final AeronTransport transport = new AeronTransport(new AeronTransport.Context()
                .hostId(id).bind(TestSupport.LOOPBACK + ":" + ports[id]).secret(secret).maxHosts(HOSTS)
                .termLength(1 << 20).log(line -> System.out.println("[aeron " + id + "] " + line)));
            for (int peer = 0; peer < HOSTS; peer++)
            {
                if (peer != id)
                {
                    transport.addPeer(peer, TestSupport.LOOPBACK + ":" + ports[peer]);
                }
            }
            made.add(transport);
            return transport;
        };
        return config;
    }

    @Test
    void hostsOnAeronBalanceBySignedHandoffsAndRecover(@TempDir final Path dir)
    {
        final int[] ports = new int[HOSTS];
        for (int h = 0; h < HOSTS; h++)
        {
            ports[h] = TestSupport.freeUdpPort();
        }
        final byte[] secret = TestSupport.secret(11);
        final List<AeronTransport> made = new ArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, ports, secret, made)))
        {
            cluster.balancing(false);
            double total = 0;
            for (long vm = 0; vm < VMS; vm++)
            {
                final double cores = 0.002 * (1 + vm % 3);
                total += cores;
                cluster.admit(0, vm, 1, new IdleGuest()); // all on host 0
                cluster.programLoad(vm, cores, 0, 0);
            }
            final double all = total;
            await("host 0 measures its VMs", 20, () -> cluster.placement().size() == VMS && cluster.load(0) >= all * (1 - 1e-9));
            cluster.balancing(true);
            await("the hosts balance over Aeron to CV <= 0.15", 60, () -> ClusterStats.cv(cluster.loads()) <= 0.15 &&
                java.util.Arrays.stream(cluster.loads()).sum() >= all * (1 - 1e-9));
            cluster.balancing(false);
            await("the handoffs settle", 20, () -> cluster.migrationsInFlight() == 0);
            final Map<Long, Integer> placement = cluster.placement();
            assertEquals(VMS, placement.size(), "every VM on exactly one host");
            assertTrue(placement.values().stream().distinct().count() == HOSTS, "every host took VMs: " + placement.values());
            assertTrue(cluster.migrationsCommitted() > 0);
            assertEquals(HOSTS, made.size(), "one transport per host");
            for (final AeronTransport transport : made)
            {
                assertTrue(transport.delivered() > 0, "host " + transport.hostId() + " received over Aeron");
                assertEquals(0, transport.refusals(), "no genuine frame refused");
            }
        }
        made.clear();
        try (Cluster cluster = Cluster.start(config(dir, ports, secret, made)))
        {
            assertEquals(VMS, cluster.recoveredVms(), "a restart on fresh transports recovers every VM");
            assertEquals(VMS, cluster.placement().size());
        }
    }

    private static void await(final String what, final int seconds, final java.util.function.BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }
}
