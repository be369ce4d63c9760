package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Both sides of the handoff on their own: a source and a target host built from their parts (no
 * agents, no Cluster), their messages carried by hand, so each step and each answer is checked in
 * order, including the ones a running cluster only meets under faults.
 */
class HandoffSidesTest
{
    /** A transport that keeps what is sent, to be delivered by the test. */
    static final class Captured implements Transport
    {
        record Message(int to, int type, UnsafeBuffer bytes, int length)
        {
        }

        final ArrayDeque<Message> sent = new ArrayDeque<>();

        @Override
        public void attach(final int hostId, final RingBuffer inbox)
        {
        }

        @Override
        public void detach(final int hostId)
        {
        }

        @Override
        public boolean send(final int toHost, final int type, final DirectBuffer buffer, final int offset, final int length)
        {
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            sent.add(new Message(toHost, type, new UnsafeBuffer(copy), length));
            return true;
        }

        Message next(final int type)
        {
            final Message m = sent.poll();
            assertNotNull(m, "a message was sent");
            assertEquals(type, m.type(), "message type");
            return m;
        }

        @Override
        public void close()
        {
        }
    }

    /** One host's parts. */
    static final class Host implements AutoCloseable
    {
        final Schedule schedule = Schedule.allocate(16);
        final VmTable vms = new VmTable();
        final ChronicleJournal journal;
        final Requests requests;
        final HandoffSource source;
        final HandoffTarget target;

        Host(final int id, final Path dir, final ClusterView view, final Transport transport, final HostConfig config)
        {
            journal = ChronicleJournal.open(dir.resolve("journal-" + id), id);
            final Forwarder forwarder = new Forwarder(id, view.hosts, transport);
            final HostCapacity capacity = config.capacity();
            requests = new Requests(id, config, view, journal, GuestRegistry.withDefaults(), schedule, vms, forwarder,
                new LoadModel(config.weights), capacity);
            source = new HandoffSource(id, config, view, journal, schedule, vms, transport, Faults.NONE, requests);
            requests.source(source);
            target = new HandoffTarget(id, view, journal, schedule, vms, requests, forwarder, Faults.NONE);
        }

        HostVm place(final long vmId)
        {
            final HostVm vm = requests.newVm(vmId, 1, TrackingGuest.class.getName(),
                new TrackingGuest(vmId).snapshot());
            schedule.insert(vmId, 1, EntryState.RUNNABLE, vm.guest);
            vms.add(vm);
            return vm;
        }

        List<RecordType> types()
        {
            final List<RecordType> types = new ArrayList<>();
            journal.replay((index, record) -> types.add(record.type()));
            return types;
        }

        @Override
        public void close()
        {
            journal.close();
        }
    }

    private final Captured wire = new Captured();
    private final List<String> aborted = new ArrayList<>();
    private HostConfig config;
    private ClusterView view;

    @BeforeEach
    void setUp()
    {
        TrackingGuest.reset();
        config = new HostConfig();
        config.handoffTimeoutNs = 1_000;
        view = new ClusterView(2, new HostCapacity[] { config.capacity(), config.capacity() }, new ClusterListener()
        {
            @Override
            public void onAborted(final long vmId, final int source, final int target, final String reason)
            {
                aborted.add(reason);
            }
        });
    }

    @AfterEach
    void tearDown()
    {
        TrackingGuest.reset();
    }

    @Test
    void aTransferActivatesAtTheTargetAndTheAckCommitsAtTheSource(@TempDir final Path dir)
    {
        try (Host a = new Host(0, dir, view, wire, config); Host b = new Host(1, dir, view, wire, config))
        {
            final HostVm vm = a.place(7);
            vm.load.program(0.25, 1e6, 2e8); // an operator's target: it travels with the VM
            view.owners.put(7L, 0);
            a.source.start(vm, 1, 0.1, 0.1, 0);
            assertEquals(EntryState.MIGRATING_OUT, a.schedule.stateOf(7), "stopped (no worker ran it)");
            a.source.progress(0);
            final Captured.Message transfer = wire.next(HostMessages.TRANSFER);
            assertEquals(1, transfer.to());

            b.target.onTransfer(transfer.bytes(), 0, transfer.length());
            assertEquals(EntryState.RUNNABLE, b.schedule.stateOf(7), "runnable at the target after ACTIVATED");
            assertEquals(1, view.owners.get(7L), "owned by the target from ACTIVATED on");
            final HostVm arrived = b.vms.get(7);
            assertEquals(io.vmsched.load.VmLoad.Mode.TARGET, arrived.load.mode(), "the programmed load came with it");
            assertEquals(0.25, arrived.load.factors().cpuCores);
            assertEquals(1e6, arrived.load.factors().ioBytesPerSecond);
            assertEquals(2e8, arrived.load.factors().memoryBytes);
            assertEquals(0, arrived.cameFrom, "it arrived from host 0: the ping-pong guard's clock starts");
            final Captured.Message ack = wire.next(HostMessages.ACK);
            assertEquals(0, ack.to());

            a.source.onAnswer(transfer.bytes().getLong(0, HostMessages.ORDER), 1, true);
            assertFalse(a.schedule.contains(7), "the source's entry is gone");
            assertEquals(0, a.vms.size());
            assertEquals(0, a.source.size());
            assertEquals(List.of(RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.COMMITTED), a.types());
            assertEquals(List.of(RecordType.RECEIVED, RecordType.ACTIVATED), b.types());

            b.target.onTransfer(transfer.bytes(), 0, transfer.length()); // a duplicate: answered, not applied again
            wire.next(HostMessages.ACK);
            assertEquals(List.of(RecordType.RECEIVED, RecordType.ACTIVATED), b.types());
            assertEquals(1, b.vms.size());
        }
    }

    @Test
    void theRefusalWatermarkIsJournaledAndARecoveredTargetStillRefusesAStaleTransfer(@TempDir final Path dir)
    {
        final HostMessages.Transfer read = new HostMessages.Transfer();
        Captured.Message first = null;
        long journaled;
        try (Host a = new Host(0, dir, view, wire, config); Host b = new Host(1, dir, view, wire, config))
        {
            final int migrations = (int)HandoffTarget.WATERMARK_STEP + 8;
            for (long v = 0; v < migrations; v++)
            {
                final HostVm vm = a.place(100 + v);
                view.owners.put(100 + v, 0);
                a.source.start(vm, 1, 0.1, 0.1, 0);
                a.source.progress(0);
                final Captured.Message transfer = wire.next(HostMessages.TRANSFER);
                first = first == null ? transfer : first;
                b.target.onTransfer(transfer.bytes(), 0, transfer.length());
                wire.next(HostMessages.ACK);
                a.source.onAnswer(transfer.bytes().getLong(0, HostMessages.ORDER), 1, true);
                b.schedule.delete(100 + v); // the VM leaves b again (its schedule holds 16): only the target's memory matters here
                b.vms.drop(b.vms.get(100 + v));
            }
            assertEquals(1, b.types().stream().filter(t -> t == RecordType.WATERMARK).count(),
                "one WATERMARK for " + migrations + " migrations (every " + HandoffTarget.WATERMARK_STEP + "): " + b.types());
            journaled = io.vmsched.journal.HostJournalState.replay(b.journal, false).watermark(0);
            final long firstId = read.wrapRead(first.bytes(), 0).migrationId();
            assertTrue(journaled > firstId, "the journaled watermark passed the first migration");
            assertFalse(b.target.remembers(firstId), "its outcome is forgotten in memory");
        }
        // a recovered target: the watermark from the journal, no outcome below it
        try (Host c = new Host(1, dir.resolve("recovered"), view, wire, config))
        {
            c.target.watermark(0, journaled);
            c.target.onTransfer(first.bytes(), 0, first.length()); // a stale duplicate, long after
            wire.next(HostMessages.NACK);
            assertFalse(c.schedule.contains(100), "a transfer below the watermark never activates");
            assertEquals(List.of(), c.types(), "refused without a record: the source settled it long ago");
        }
    }

    @Test
    void aResolveBeforeTheTransferRefusesItForGoodAndTheSourceAbortsAndResumes(@TempDir final Path dir)
    {
        try (Host a = new Host(0, dir, view, wire, config); Host b = new Host(1, dir, view, wire, config))
        {
            final HostVm vm = a.place(9);
            view.owners.put(9L, 0);
            a.source.start(vm, 1, 0.1, 0.1, 0);
            a.source.progress(0);
            final Captured.Message transfer = wire.next(HostMessages.TRANSFER); // held back: the target sees it late
            a.source.progress(config.handoffTimeoutNs + 1); // no answer in time: ask, never guess
            final Captured.Message resolve = wire.next(HostMessages.RESOLVE);

            b.target.onResolve(resolve.bytes(), 0);
            assertEquals(List.of(RecordType.ABORTED), b.types(), "refused for good");
            final Captured.Message nack = wire.next(HostMessages.NACK);
            b.target.onTransfer(transfer.bytes(), 0, transfer.length()); // the late transfer
            wire.next(HostMessages.NACK);
            assertFalse(b.schedule.contains(9), "a refused migration never activates");
            assertEquals(List.of(RecordType.ABORTED), b.types());

            a.source.onAnswer(nack.bytes().getLong(0, HostMessages.ORDER), 1, false);
            assertEquals(EntryState.RUNNABLE, a.schedule.stateOf(9), "the VM runs on at the source");
            assertNull(vm.out);
            assertEquals(List.of("the target did not activate it"), aborted);
            assertEquals(List.of(RecordType.MIGRATION_INTENT, RecordType.SUSPENDED, RecordType.ABORTED), a.types());
            assertEquals(0, view.owners.get(9L));
        }
    }

    @Test
    void aTransferTheTargetCannotTakeIsAbortedThereAndAnsweredNo(@TempDir final Path dir)
    {
        try (Host a = new Host(0, dir, view, wire, config); Host b = new Host(1, dir, view, wire, config))
        {
            b.place(5); // already there: the target refuses a second copy
            final HostVm vm = a.place(5);
            a.source.start(vm, 1, 0.1, 0.1, 0);
            a.source.progress(0);
            final Captured.Message transfer = wire.next(HostMessages.TRANSFER);
            b.target.onTransfer(transfer.bytes(), 0, transfer.length());
            wire.next(HostMessages.NACK);
            assertEquals(List.of(RecordType.ABORTED), b.types());
            assertEquals(1, b.vms.size());
        }
    }
}
