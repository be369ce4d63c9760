package io.vmsched.cluster;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The child JVM of {@link CrashRecoveryTest}: a cluster under constant migration load, waiting to be
 * killed. Prints {@code READY} once every VM is admitted, then {@code committed N} as migrations
 * commit; after {@code drainAfter} commits it drains host 0 and prints {@code DRAINING} (its VMs leave
 * while the kill may come). Arguments: data directory, hosts, VMs, seed, drainAfter (-1: never).
 */
public final class CrashChild
{
    private CrashChild()
    {
    }

    public static void main(final String[] args)
    {
        final Path dir = Path.of(args[0]);
        final int hosts = Integer.parseInt(args[1]);
        final int vms = Integer.parseInt(args[2]);
        final SplittableRandom random = new SplittableRandom(Long.parseLong(args[3]));
        final long drainAfter = args.length > 4 ? Long.parseLong(args[4]) : -1;
        boolean drained = false;
        final AtomicLong committed = new AtomicLong();
        final ClusterConfig config = ClusterTest.config(hosts, dir);
        config.host.handoffTimeoutNs = 100_000_000L;
        config.listener = new ClusterListener()
        {
            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                final long n = committed.incrementAndGet();
                if (n % 10 == 0)
                {
                    System.out.println("committed " + n);
                }
            }
        };
        final Cluster cluster = Cluster.start(config);
        for (long vm = 0; vm < vms; vm++)
        {
            cluster.admit((int)(vm % hosts), vm, 1, new TrackingGuest(vm));
        }
        while (cluster.placement().size() < vms || totalVms(cluster) < vms)
        {
            LockSupport.parkNanos(1_000_000);
        }
        System.out.println("READY");
        while (true)
        {
            if (!drained && drainAfter >= 0 && committed.get() >= drainAfter)
            {
                cluster.drain(0);
                drained = true;
                System.out.println("DRAINING");
            }
            if (cluster.migrationsInFlight() >= hosts)
            {
                LockSupport.parkNanos(50_000);
                continue;
            }
            final long vm = random.nextInt(vms);
            final Integer owner = cluster.placement().get(vm);
            final int target = random.nextInt(hosts);
            if (owner == null || owner == target)
            {
                continue;
            }
            try
            {
                cluster.migrate(vm, target);
            }
            catch (final RuntimeException ignored)
            {
                // it moved meanwhile, or the inbox is full: pick another
            }
            LockSupport.parkNanos(200_000);
        }
    }

    private static int totalVms(final Cluster cluster)
    {
        int total = 0;
        for (int h = 0; h < cluster.hostCount(); h++)
        {
            total += cluster.host(h).vmCount();
        }
        return total;
    }
}
