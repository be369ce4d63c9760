package io.vmsched.cluster;

import io.vmsched.guest.IdleGuest;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A message written into a host's inbox by another thread wakes its agent: the agent does not wait for its
 * idle strategy's park to end. Here every agent idles by parking 10 s at a time (after a thousand idle
 * cycles of yielding, which cover a dispatcher's slice the stop of a VM may wait for), so without the wake the
 * admission and each step of the handoff (the request, the transfer into the target's inbox, the ack back)
 * would each wait for the park to end.
 */
class AgentWakeTest
{
    private static final long PARK_NS = TimeUnit.SECONDS.toNanos(10);

    @Test
    void anAdmissionAndAHandoffDoNotWaitForAParkedAgent(@TempDir final Path dir) throws InterruptedException
    {
        final CountDownLatch admitted = new CountDownLatch(1);
        final CountDownLatch migrated = new CountDownLatch(1);
        final AtomicLong handoffNs = new AtomicLong();
        final ClusterConfig config = ClusterTest.config(2, dir);
        config.host.agentIdleStrategy = LongParks::new;
        config.listener = new ClusterListener()
        {
            @Override
            public void onAdmitted(final int host, final long vmId)
            {
                admitted.countDown();
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                handoffNs.set(durationNs);
                migrated.countDown();
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            Thread.sleep(200); // both agents are parked by now: nothing to do since their start
            long start = System.nanoTime();
            cluster.admit(0, 1, 1, new IdleGuest());
            assertTrue(admitted.await(3, TimeUnit.SECONDS), "the admission waited for the agent's park to end");
            final long admitNs = System.nanoTime() - start;

            Thread.sleep(200); // parked again
            start = System.nanoTime();
            cluster.migrate(1, 1);
            assertTrue(migrated.await(3, TimeUnit.SECONDS), "the handoff waited for a parked agent");
            final long callToCommitNs = System.nanoTime() - start;
            assertEquals(1, cluster.migrationsCommitted());
            assertTrue(admitNs < TimeUnit.SECONDS.toNanos(3) && callToCommitNs < TimeUnit.SECONDS.toNanos(3) &&
                handoffNs.get() < TimeUnit.SECONDS.toNanos(3), "admit " + admitNs + " ns, handoff " + callToCommitNs + " ns");
        }
    }

    /** Yields for a thousand idle cycles after any work, then parks 10 s at a time. */
    static final class LongParks implements IdleStrategy
    {
        private int idleCycles;

        @Override
        public void idle(final int workCount)
        {
            if (workCount > 0)
            {
                reset();
                return;
            }
            idle();
        }

        @Override
        public void idle()
        {
            if (++idleCycles < 1_000)
            {
                Thread.yield();
            }
            else
            {
                LockSupport.parkNanos(PARK_NS);
            }
        }

        @Override
        public void reset()
        {
            idleCycles = 0;
        }
    }
}
