package io.vmsched.cluster;

import io.vmsched.balloon.BalloonDriver;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.dispatch.Await;
import io.vmsched.journal.BalloonRecord;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** An external VM's balloon: the host asks its hypervisor's {@link BalloonDriver}, given by HostConfig.externalBalloons. */
class ExternalBalloonTest
{
    private static final long MIB = 1 << 20;
    private static final int UNCHANGED = BalloonRequest.UNCHANGED;

    /** A hypervisor's driver: answers on its own thread, at once or when the test lets it go. */
    static final class FakeDriver implements BalloonDriver
    {
        final String name;
        final long pid;
        final List<BalloonRequest> asked = new CopyOnWriteArrayList<>();
        volatile CountDownLatch hold = new CountDownLatch(0);
        volatile boolean closed;
        volatile RuntimeException throwing;

        FakeDriver(final String name, final long pid)
        {
            this.name = name;
            this.pid = pid;
        }

        @Override
        public void request(final BalloonRequest request, final Consumer<BalloonResult> done)
        {
            if (throwing != null)
            {
                throw throwing;
            }
            asked.add(request);
            final CountDownLatch latch = hold;
            final Thread thread = new Thread(() ->
            {
                try
                {
                    latch.await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                done.accept(new BalloonResult(request.requestId(), request.vmId(), Outcome.SHORT,
                    request.memoryBytes() + MIB, -1, "the guest kept 1 MiB more"));
            }, "fake-balloon-driver");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close()
        {
            closed = true;
        }
    }

    private static ClusterConfig config(final Path dir, final List<BalloonResult> told, final List<FakeDriver> drivers)
    {
        final ClusterConfig config = ClusterTest.config(1, dir);
        config.host.memoryBytes = 1L << 30;
        config.host.balloonTimeoutNs = 10_000_000_000L;
        config.host.externalBalloons = (vmId, name, pid) ->
        {
            if (name.startsWith("plain"))
            {
                return null;
            }
            final FakeDriver driver = new FakeDriver(name, pid);
            drivers.add(driver);
            return driver;
        };
        config.listener = new ClusterListener()
        {
            @Override
            public void onBalloon(final BalloonResult result)
            {
                told.add(result);
            }
        };
        return config;
    }

    private static BalloonResult ask(final Cluster cluster, final long vmId, final long memory) throws Exception
    {
        return cluster.balloon(vmId, memory, UNCHANGED).get(20, TimeUnit.SECONDS);
    }

    @Test
    void anExternalVmsBalloonIsItsDriversWhichAnswersJournaledAndIsClosedWhenTheVmLeaves(@TempDir final Path dir)
        throws Exception
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        final List<FakeDriver> drivers = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(dir, told, drivers);
        final long pid = ProcessHandle.current().pid();
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admitExternal(0, 5, "qemu-a", pid);
            cluster.admitExternal(0, 6, "plain-b", pid);
            final BalloonResult result = ask(cluster, 5, 32 * MIB);
            assertEquals(Outcome.SHORT, result.outcome(), result::toString);
            assertEquals(33 * MIB, result.memoryBytes());
            assertEquals("the guest kept 1 MiB more", result.reason());
            assertEquals(1, drivers.size(), "one driver, for the VM the factory gave one");
            assertEquals("qemu-a", drivers.get(0).name);
            assertEquals(pid, drivers.get(0).pid);
            assertEquals(32 * MIB, drivers.get(0).asked.get(0).memoryBytes());

            final BalloonResult none = ask(cluster, 6, 32 * MIB);
            assertEquals(Outcome.NO_BALLOON, none.outcome());
            assertEquals("vm 6 is an external VM without a balloon driver (HostConfig.externalBalloons gave none)",
                none.reason());

            drivers.get(0).throwing = new IllegalStateException("QMP socket /x is gone");
            final BalloonResult failed = ask(cluster, 5, 16 * MIB);
            assertEquals(Outcome.FAILED, failed.outcome());
            assertEquals("the balloon driver threw IllegalStateException: QMP socket /x is gone", failed.reason());

            cluster.remove(5);
            Await.until("the removed VM's driver is closed", 20, () -> drivers.get(0).closed);
        }
        final List<String> results = results(config.journalDir(0));
        assertEquals(List.of("1 SHORT 34603008 the guest kept 1 MiB more",
            "2 NO_BALLOON -1 vm 6 is an external VM without a balloon driver (HostConfig.externalBalloons gave none)",
            "3 FAILED -1 the balloon driver threw IllegalStateException: QMP socket /x is gone"), results);

        drivers.clear();
        try (Cluster cluster = Cluster.start(config(dir, told, drivers)))
        {
            assertEquals(1, cluster.recoveredVms(), "vm 6");
            cluster.admitExternal(0, 7, "qemu-c", pid);
            Await.until("the new VM's driver is opened", 20, () -> drivers.size() == 1);
        }
        assertTrue(drivers.get(0).closed, "closed with its host");
    }

    @Test
    void aDriversAnswerAfterTheDeadlineIsJournaledAsTheVmsSize(@TempDir final Path dir) throws Exception
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        final List<FakeDriver> drivers = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(dir, told, drivers);
        config.host.balloonTimeoutNs = 200_000_000L; // the deadline this test waits out
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admitExternal(0, 5, "qemu-a", ProcessHandle.current().pid());
            Await.until("its driver is opened", 20, () -> drivers.size() == 1);
            final FakeDriver driver = drivers.get(0);
            driver.hold = new CountDownLatch(1);
            final BalloonResult result = ask(cluster, 5, 32 * MIB);
            assertEquals(Outcome.TIMED_OUT, result.outcome());
            final BalloonResult again = ask(cluster, 5, 16 * MIB);
            assertEquals(Outcome.REFUSED, again.outcome());
            assertEquals("vm 5 has balloon request 1 past its deadline, its answer still awaited: ask again when it " +
                "ends", again.reason());
            driver.hold.countDown();
            Await.until("the late answer is told", 20, () -> told.stream().anyMatch(r -> r.outcome() == Outcome.SHORT));
            final BalloonResult late = told.stream().filter(r -> r.outcome() == Outcome.SHORT).findFirst().get();
            assertEquals(1, late.requestId());
            assertEquals("answered after its deadline: the guest kept 1 MiB more", late.reason());
            assertEquals(Outcome.SHORT, ask(cluster, 5, 16 * MIB).outcome(), "asked again once it answered");
        }
        final List<String> results = results(config.journalDir(0));
        assertEquals(List.of("1 TIMED_OUT -1 vm 5 did not answer within 200 ms (no slice ran its balloon, or it ran " +
                "past the deadline)",
            "2 REFUSED -1 vm 5 has balloon request 1 past its deadline, its answer still awaited: ask again when it ends",
            "1 SHORT 34603008 answered after its deadline: the guest kept 1 MiB more",
            "3 SHORT 17825792 the guest kept 1 MiB more"), results);
    }

    /** @return each BALLOON_RESULT as "request outcome memory reason". */
    static List<String> results(final Path journalDir)
    {
        final List<String> results = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(journalDir, 0))
        {
            final BalloonRecord balloon = new BalloonRecord();
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.BALLOON_RESULT)
                {
                    balloon.wrap(record);
                    results.add(balloon.requestId() + " " + balloon.outcome() + " " + balloon.memoryBytes() + " " +
                        balloon.reason());
                }
            });
        }
        return results;
    }
}
