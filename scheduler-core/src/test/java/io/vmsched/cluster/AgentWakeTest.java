package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import io.vmsched.guest.IdleGuest;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * would each wait for the park to end. Each request is made only once every agent is blocked in that park.
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
        final List<LongParks> agents = new CopyOnWriteArrayList<>();
        final ClusterConfig config = ClusterTest.config(2, dir);
        config.host.agentIdleStrategy = () ->
        {
            final LongParks idle = new LongParks();
            agents.add(idle);
            return idle;
        };
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
            awaitParked(agents, 2); // nothing to do since their start
            long start = System.nanoTime();
            cluster.admit(0, 1, 1, new IdleGuest());
            assertTrue(admitted.await(3, TimeUnit.SECONDS), "the admission waited for the agent's park to end");
            final long admitNs = System.nanoTime() - start;

            awaitParked(agents, 2); // host 0's agent parked again after the admission (it was running its callback)
            start = System.nanoTime();
            cluster.migrate(1, 1);
            assertTrue(migrated.await(3, TimeUnit.SECONDS), "the handoff waited for a parked agent");
            final long callToCommitNs = System.nanoTime() - start;
            assertEquals(1, cluster.migrationsCommitted());
            assertTrue(admitNs < TimeUnit.SECONDS.toNanos(3) && callToCommitNs < TimeUnit.SECONDS.toNanos(3) &&
                handoffNs.get() < TimeUnit.SECONDS.toNanos(3), "admit " + admitNs + " ns, handoff " + callToCommitNs + " ns");
        }
    }

    private static void awaitParked(final List<LongParks> agents, final int hosts)
    {
        Await.until("every agent blocked in its 10 s park", 10,
            () -> agents.size() == hosts && agents.stream().allMatch(LongParks::isParked));
    }

    /**
     * Yields for a thousand idle cycles after any work, then parks 10 s at a time; tells whether its agent is
     * blocked in that park now.
     */
    static final class LongParks implements IdleStrategy
    {
        private volatile Thread parked; // the agent's thread while it is in parkNanos, else null
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
                parked = Thread.currentThread();
                LockSupport.parkNanos(PARK_NS);
                parked = null;
            }
        }

        /** @return whether the agent is blocked in its long park now: not yielding, nor about to park. */
        boolean isParked()
        {
            final Thread thread = parked;
            return thread != null && thread.getState() == Thread.State.TIMED_WAITING && parked == thread;
        }

        @Override
        public void reset()
        {
            idleCycles = 0;
        }
    }
}
