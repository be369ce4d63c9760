package io.vmsched.tools;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.guest.PacedBurnerGuest;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Child JVM of {@link CrashJournalTest}: a 3-host cluster migrating constantly, printing
 * {@code committed N} every 10 commits, waiting to be killed. Arguments: data directory, seed.
 */
public final class CrashWriter
{
    private CrashWriter()
    {
    }

    public static void main(final String[] args)
    {
        final AtomicLong committed = new AtomicLong();
        final ClusterConfig config = ClusterConfig.of(3, Path.of(args[0]));
        config.host.balancing = false;
        config.host.handoffTimeoutNs = 100_000_000L;
        config.host.loadSnapshotPeriodNs = 20_000_000L;
        config.listener = new ClusterListener()
        {
            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                // the count this call made: each host's agent calls this, and a second read could see another's
                // (the test waits for one exact line; it once waited forever for "committed 20" after "committed 21")
                final long n = committed.incrementAndGet();
                if (n % 10 == 0)
                {
                    System.out.println("committed " + n);
                }
            }
        };
        final SplittableRandom random = new SplittableRandom(Long.parseLong(args[1]));
        final Cluster cluster = Cluster.start(config);
        for (long vm = 0; vm < 9; vm++)
        {
            cluster.admit((int)(vm % 3), vm, 1, new PacedBurnerGuest(0.01));
        }
        while (true)
        {
            if (cluster.migrationsInFlight() >= 3)
            {
                LockSupport.parkNanos(50_000);
                continue;
            }
            final long vm = random.nextInt(9);
            final Integer owner = cluster.placement().get(vm);
            final int target = random.nextInt(3);
            if (owner != null && owner != target)
            {
                try
                {
                    cluster.migrate(vm, target);
                }
                catch (final RuntimeException ignored)
                {
                    // moved meanwhile: pick another
                }
            }
            LockSupport.parkNanos(300_000);
        }
    }
}
