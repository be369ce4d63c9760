package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Cluster#addHost}: empty hosts join a running, balanced cluster and fill; a restart must name them. */
class ScaleOutTest
{
    private static ClusterConfig config(final Path dir, final int hosts)
    {
        final ClusterConfig config = ClusterConfig.of(hosts, dir);
        config.maxHosts = 8;
        config.host.balancing = true;
        config.host.balancePeriodNs = 50_000_000L;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.handoffTimeoutNs = 500_000_000L;
        config.host.scheduleCapacity = 256;
        config.host.inboxBytes = 1 << 20;
        return config;
    }

    private static boolean withinTenPercent(final Cluster cluster, final int from, final double total)
    {
        final double[] loads = cluster.loads();
        final double mean = total / loads.length;
        for (int h = from; h < loads.length; h++)
        {
            if (!(Math.abs(loads[h] - mean) <= 0.10 * mean))
            {
                return false;
            }
        }
        return cluster.placement().size() == 128;
    }

    @Test
    void emptyHostsAddedToARunningClusterFillAndARestartMustNameThem(@TempDir final Path dir)
    {
        final SplittableRandom random = new SplittableRandom(3);
        double total = 0;
        try (Cluster cluster = Cluster.start(config(dir, 4)))
        {
            for (long vm = 0; vm < 128; vm++)
            {
                final double cores = 0.004 * Math.exp(0.5 * random.nextGaussian());
                total += cores;
                cluster.admit(vm, 1, new TrackingGuest(vm));
                cluster.programLoad(vm, cores, 0, 0);
            }
            final double all = total;
            Await.until("the 4 hosts balance", 30, () -> withinTenPercent(cluster, 0, all) && cluster.loads().length == 4);
            for (int added = 0; added < 4; added++)
            {
                assertEquals(4 + added, cluster.addHost());
            }
            assertEquals(8, cluster.hostCount());
            final long start = System.nanoTime();
            Await.until("the 4 new hosts within 10 % of the mean", 30, () -> withinTenPercent(cluster, 4, all));
            System.out.printf("4 empty hosts added to 4 with 128 VMs: within 10 %% of the mean after %.2f s%n",
                (System.nanoTime() - start) / 1e9);
            final IllegalStateException full = assertThrows(IllegalStateException.class, cluster::addHost);
            assertEquals("the cluster has 8 hosts, the most its ClusterConfig.maxHosts (8) allows: start it with a " +
                "larger maxHosts to add more", full.getMessage());
            Await.until("the handoffs settle", 10, () -> cluster.migrationsInFlight() == 0);
        }

        final IllegalArgumentException forgotten = assertThrows(IllegalArgumentException.class,
            () -> Cluster.start(config(dir, 4)).close());
        assertTrue(forgotten.getMessage().contains("records 8 hosts, but the cluster is started with 4"), forgotten.getMessage());
        try (Cluster cluster = Cluster.start(config(dir, 8)))
        {
            assertEquals(128, cluster.recoveredVms(), "every VM recovered, on the added hosts too");
            assertEquals(128, cluster.placement().size());
        }
    }
}
