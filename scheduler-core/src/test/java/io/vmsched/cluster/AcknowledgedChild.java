package io.vmsched.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The child JVM of {@link AcknowledgedCrashTest}: admits, removes and migrates VMs as fast as it
 * can, printing one line per event the caller was told of: {@code A id} (onAdmitted), {@code R id}
 * (onRemoved), {@code F id} (an admission reported failed), {@code X id} (an admission refused by
 * the call), {@code D id} (a remove is about to be asked: after a kill the VM may be there or not), until it is killed. Arguments: data directory, hosts, seed.
 */
public final class AcknowledgedChild
{
    private AcknowledgedChild()
    {
    }

    public static void main(final String[] args)
    {
        final Path dir = Path.of(args[0]);
        final int hosts = Integer.parseInt(args[1]);
        final SplittableRandom random = new SplittableRandom(Long.parseLong(args[2]));
        final ClusterConfig config = ClusterTest.config(hosts, dir);
        config.host.scheduleCapacity = 512;
        config.host.inboxBytes = 8192;
        config.host.requestTimeoutNs = 1_000_000L;
        config.host.handoffTimeoutNs = 100_000_000L;
        config.listener = new ClusterListener()
        {
            @Override
            public void onAdmitted(final int host, final long vmId)
            {
                System.out.println("A " + vmId);
            }

            @Override
            public void onRemoved(final int host, final long vmId)
            {
                System.out.println("R " + vmId);
            }

            @Override
            public void onRequestFailed(final int host, final Request request, final long vmId, final String reason)
            {
                if (request == Request.ADMIT)
                {
                    System.out.println("F " + vmId);
                }
            }
        };
        final Cluster cluster = Cluster.start(config);
        System.out.println("READY");
        final List<Long> live = new ArrayList<>();
        long next = 0;
        while (true)
        {
            final int op = random.nextInt(10);
            if (op < 4 || live.size() < 8)
            {
                if (live.size() >= 300)
                {
                    continue;
                }
                final long vm = next++;
                try
                {
                    cluster.admit(random.nextInt(hosts), vm, 1, new TrackingGuest(vm));
                    live.add(vm);
                }
                catch (final IllegalStateException ex)
                {
                    System.out.println("X " + vm);
                }
            }
            else if (op < 7)
            {
                try
                {
                    cluster.migrate(live.get(random.nextInt(live.size())), random.nextInt(hosts));
                }
                catch (final RuntimeException ignored)
                {
                    // refused or already there: fine
                }
            }
            else
            {
                final long vm = live.get(random.nextInt(live.size()));
                // printed before the call: a kill between an accepted remove and this line would otherwise
                // leave a VM the parent thinks nobody asked to remove, which the host may already have removed
                System.out.println("D " + vm);
                try
                {
                    cluster.remove(vm);
                    live.remove(Long.valueOf(vm));
                }
                catch (final RuntimeException ignored)
                {
                    // refused (full inbox) or its admission failed: try another
                    live.remove(Long.valueOf(vm));
                }
            }
            if (random.nextInt(64) == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
    }
}
