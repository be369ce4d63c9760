package io.vmsched.jfr;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.cluster.Faults;
import io.vmsched.dispatch.Await;
import io.vmsched.guest.IdleGuest;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A short embedded-cluster run recorded with {@link Recording}, dumped, and read back with
 * {@link RecordingFile}: each handoff step of a committed and of an aborted migration, a balance decision
 * and a service's change of status are in the file with the right fields. And while no recording runs,
 * emitting allocates nothing.
 */
class FlightEventsTest
{
    private static final List<String> NAMES = List.of(HandoffBeginEvent.NAME, HandoffTransferEvent.NAME,
        HandoffAckEvent.NAME, HandoffCommitEvent.NAME, HandoffAbortEvent.NAME, BalanceDecisionEvent.NAME,
        ServiceStatusEvent.NAME);

    @Test
    void aRecordingHoldsEveryHandoffStepABalanceDecisionAndAStatusChange(@TempDir final Path dir) throws Exception
    {
        final AtomicBoolean failNextReceive = new AtomicBoolean();
        final ClusterConfig config = ClusterConfig.of(3, dir.resolve("data"));
        config.host.balancing = false;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.balancePeriodNs = 100_000_000L;
        config.host.handoffTimeoutNs = 200_000_000L;
        config.host.scheduleCapacity = 64;
        config.host.inboxBytes = 64 * 1024;
        config.watchPeriodNs = 20_000_000L;
        // the armed fault strikes the next transfer at its target, after RECEIVED: the target aborts, the source too
        config.faults = (point, host, migrationId) -> point == Faults.Point.TARGET_AFTER_RECEIVED &&
            failNextReceive.compareAndSet(true, false) ? Faults.Action.THROW : Faults.Action.PROCEED;
        config.listener = new ClusterListener()
        {
        };

        final Path file = dir.resolve("run.jfr");
        try (Recording recording = new Recording())
        {
            for (final String name : NAMES)
            {
                recording.enable(name);
            }
            recording.start();
            assertTrue(FlightEvents.recording(), "the running recording is seen");
            try (Cluster cluster = Cluster.start(config))
            {
                for (long vm = 1; vm <= 6; vm++)
                {
                    cluster.admit(0, vm, 1, new IdleGuest());
                }
                Await.until("admissions", 20, () -> cluster.host(0).vmCount() == 6);
                cluster.migrate(1, 1);
                cluster.migrate(2, 2);
                Await.until("two migrations committed", 20, () -> cluster.migrationsCommitted() == 2);
                failNextReceive.set(true);
                cluster.migrate(3, 1);
                Await.until("the third aborted", 20, () -> cluster.migrationsAborted() == 1);

                cluster.defineService("web", 2, 1);
                cluster.addToService("web", 5, 6);
                Await.until("web healthy", 20, () -> !cluster.status().services().isEmpty() &&
                    cluster.status().services().get(0).health() == io.vmsched.placement.ServiceHealth.HEALTHY);
                cluster.remove(6);
                Await.until("web degraded", 20, () ->
                    cluster.status().services().get(0).health() == io.vmsched.placement.ServiceHealth.DEGRADED);

                // host 0 made heavy by programmed loads: its exchanges decide
                for (long vm = 3; vm <= 5; vm++)
                {
                    cluster.programLoad(vm, 0.5, 0, 0);
                }
                cluster.balancing(true);
                Await.until("a balance decision", 20, () -> cluster.host(0).decisions() > 0);
            }
            recording.stop();
            recording.dump(file);
        }
        assertFalse(FlightEvents.recording(), "no recording runs any more");

        final List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
            .sorted(Comparator.comparing(RecordedEvent::getStartTime)).collect(Collectors.toList());

        // the committed migration of vm 1 from host 0 to host 1: begin, transfer, ack, commit, one migration id
        final List<RecordedEvent> vm1 = events.stream().filter(e -> e.getEventType().getName().startsWith("vmsched.Handoff") &&
            e.getLong("vmId") == 1).collect(Collectors.toList());
        assertEquals(List.of(HandoffBeginEvent.NAME, HandoffTransferEvent.NAME, HandoffAckEvent.NAME, HandoffCommitEvent.NAME),
            vm1.stream().map(e -> e.getEventType().getName()).collect(Collectors.toList()), vm1.toString());
        final long migration = vm1.get(0).getLong("migrationId");
        for (final RecordedEvent e : vm1)
        {
            assertEquals(migration, e.getLong("migrationId"), e.toString());
            assertEquals(0, e.getInt("source"), e.toString());
            assertEquals(1, e.getInt("target"), e.toString());
        }
        assertEquals(0, vm1.get(0).getInt("host"), "the source begins");
        assertEquals(0, vm1.get(1).getInt("host"), "the source transfers");
        assertTrue(vm1.get(1).getInt("bytes") > 0, vm1.get(1).toString());
        assertEquals(1, vm1.get(2).getInt("host"), "the target acks");
        assertEquals(0, vm1.get(3).getInt("host"), "the source commits");
        assertTrue(vm1.get(3).getDuration("handoffDuration").toNanos() > 0, vm1.get(3).toString());
        assertEquals("vmsched", vm1.get(0).getEventType().getCategoryNames().get(0));

        // vm 2 went to host 2
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals(HandoffCommitEvent.NAME) &&
            e.getLong("vmId") == 2 && e.getInt("target") == 2), "vm 2's commit");

        // the aborted migration of vm 3: the target's abort, then the source's, with their reasons
        final List<RecordedEvent> aborts = events.stream().filter(e -> e.getEventType().getName().equals(HandoffAbortEvent.NAME))
            .collect(Collectors.toList());
        assertEquals(2, aborts.size(), aborts.toString());
        final RecordedEvent targetAbort = aborts.get(0);
        assertEquals("target", targetAbort.getString("side"));
        assertEquals(1, targetAbort.getInt("host"));
        assertEquals(3, targetAbort.getLong("vmId"));
        assertEquals(0, targetAbort.getInt("source"));
        assertEquals(1, targetAbort.getInt("target"));
        assertEquals("target-failed-before-activating", targetAbort.getString("reason"));
        assertTrue(targetAbort.getString("detail").contains("injected fault at TARGET_AFTER_RECEIVED"),
            targetAbort.getString("detail"));
        final RecordedEvent sourceAbort = aborts.get(1);
        assertEquals("source", sourceAbort.getString("side"));
        assertEquals(0, sourceAbort.getInt("host"));
        assertEquals(3, sourceAbort.getLong("vmId"));
        assertEquals("target-did-not-activate", sourceAbort.getString("reason"));
        assertEquals(targetAbort.getLong("migrationId"), sourceAbort.getLong("migrationId"));
        assertFalse(events.stream().anyMatch(e -> e.getEventType().getName().equals(HandoffAckEvent.NAME) &&
            e.getLong("vmId") == 3), "an aborted migration is never acked");

        // the service's change of status
        final List<RecordedEvent> statuses = events.stream().filter(e -> e.getEventType().getName().equals(ServiceStatusEvent.NAME))
            .collect(Collectors.toList());
        assertTrue(statuses.stream().anyMatch(e -> e.getString("service").equals("web") &&
            e.getString("status").equals("healthy")), statuses.toString());
        final RecordedEvent degraded = statuses.stream().filter(e -> e.getString("status").equals("degraded")).findFirst()
            .orElseThrow(() -> new AssertionError("no change to degraded: " + statuses));
        assertEquals("web", degraded.getString("service"));
        assertEquals("healthy", degraded.getString("previous"));
        assertEquals("1 VMs running of its size 2", degraded.getString("cause"));

        // host 0's decision against a lighter peer
        final RecordedEvent decision = events.stream().filter(e -> e.getEventType().getName().equals(BalanceDecisionEvent.NAME) &&
            e.getInt("host") == 0).findFirst().orElseThrow(() -> new AssertionError("no decision of host 0"));
        assertNotEquals(0, decision.getInt("peer"));
        assertTrue(decision.getDouble("hostLoad") > decision.getDouble("peerLoad"), decision.toString());
        assertFalse(decision.getString("outcome").isEmpty(), decision.toString());
        assertTrue(decision.getString("detail").startsWith("host 0 -> peer "), decision.getString("detail"));
        assertEquals(decision.getInt("moves") > 0, decision.getLong("firstVm") >= 0, decision.toString());
    }

    @Test
    void withNoRecordingEmittingAllocatesNothing()
    {
        assertFalse(FlightEvents.recording(), "no recording runs in this test");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final String detail = "the target did not activate it";
        emit(1_000, detail); // warm up: classes loaded, paths compiled
        final long before = threads.getCurrentThreadAllocatedBytes();
        emit(100_000, detail);
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, allocated + " bytes for 700,000 emissions");
    }

    private static void emit(final int times, final String detail)
    {
        for (int i = 0; i < times; i++)
        {
            FlightEvents.handoffBegin(0, i, i, 1, 0.1, 0.1);
            FlightEvents.handoffTransfer(0, i, i, 1, 100);
            FlightEvents.handoffAck(1, i, i, 0);
            FlightEvents.handoffCommit(0, i, i, 1, 1_000);
            FlightEvents.handoffAbort(0, FlightEvents.SOURCE, i, i, 0, 1, "target-did-not-activate", detail);
            FlightEvents.balanceDecision(0, 1, 0.5, 0.1, 0.05, 0.3, "moved", 1, i, detail);
            FlightEvents.serviceStatus("web", "healthy", null, detail);
        }
    }
}
