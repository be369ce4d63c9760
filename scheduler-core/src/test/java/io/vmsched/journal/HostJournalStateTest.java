package io.vmsched.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The replayer on a hand-written journal of host 1 (no cluster): each way a VM comes, goes or is left
 * in between shows in what it owns and what it left pending.
 */
class HostJournalStateTest
{
    private static final byte[] KIND = "kind-a".getBytes(StandardCharsets.UTF_8);
    private static final long COMMITTED_OUT = JournalRecord.migrationId(1, 1);
    private static final long IN_DOUBT_OUT = JournalRecord.migrationId(1, 2);
    private static final long ABORTED_OUT = JournalRecord.migrationId(1, 3);
    private static final long ACTIVATED_IN = JournalRecord.migrationId(2, 5);
    private static final long REFUSED_IN = JournalRecord.migrationId(2, 6);
    private static final long RECEIVED_IN = JournalRecord.migrationId(3, 7);

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void write(final Journal j)
    {
        j.appendGuest(RecordType.ADMITTED, 0, 10, -1, 2, KIND, bytes("s10"));
        j.appendGuest(RecordType.ADMITTED, 0, 11, -1, 1, KIND, bytes("s11"));
        j.appendGuest(RecordType.ADMITTED, 0, 12, -1, 1, KIND, bytes("s12"));
        j.appendGuest(RecordType.ADMITTED, 0, 13, -1, 1, KIND, bytes("s13"));
        j.append(RecordType.REMOVED, 0, 11, -1, 0, 0, 0);
        // committed out: vm 12 goes to host 2
        j.append(RecordType.MIGRATION_INTENT, COMMITTED_OUT, 12, 2, 0, 0.5, 0.1);
        j.appendGuest(RecordType.SUSPENDED, COMMITTED_OUT, 12, 2, 1, KIND, bytes("s12'"));
        j.append(RecordType.COMMITTED, COMMITTED_OUT, 12, 2, 0, 0, 0);
        // in doubt out: vm 13 suspended for host 3, then nothing (a crash)
        j.append(RecordType.MIGRATION_INTENT, IN_DOUBT_OUT, 13, 3, 0, 0.5, 0.1);
        j.appendGuest(RecordType.SUSPENDED, IN_DOUBT_OUT, 13, 3, 1, KIND, bytes("s13'"));
        // activated in: vm 20 from host 2
        j.appendGuest(RecordType.RECEIVED, ACTIVATED_IN, 20, 2, 3, KIND, bytes("s20"));
        j.append(RecordType.ACTIVATED, ACTIVATED_IN, 20, 2, 0, 0, 0);
        // received, not activated: vm 30 from host 3
        j.appendGuest(RecordType.RECEIVED, RECEIVED_IN, 30, 3, 1, KIND, bytes("s30"));
        // refused in: vm 21 from host 2, the target failed
        j.appendGuest(RecordType.RECEIVED, REFUSED_IN, 21, 2, 1, KIND, bytes("s21"));
        j.appendText(RecordType.ABORTED, REFUSED_IN, 21, 2, 0, 0, 0, AbortReason.TARGET_FAILED_BEFORE_ACTIVATING.code(),
            "target failed before activating: boom");
        // aborted out: vm 10 stays
        j.append(RecordType.MIGRATION_INTENT, ABORTED_OUT, 10, 2, 0, 0.5, 0.1);
        j.appendText(RecordType.ABORTED, ABORTED_OUT, 10, 2, 0, 0, 0, AbortReason.TARGET_DID_NOT_ACTIVATE.code(),
            "the target did not activate it");
        j.append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 3, 0.4, 0);
    }

    @Test
    void ownedAndPendingFollowEachWayAVmComesAndGoes(@TempDir final Path dir)
    {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 1))
        {
            write(journal);
            final HostJournalState state = HostJournalState.replay(journal, true);

            assertEquals(List.of(10L, 13L, 20L), List.copyOf(state.owned().keySet()),
                "admitted, minus removed, minus committed out, plus activated in");
            assertFalse(state.owns(11), "removed");
            assertFalse(state.owns(12), "committed out");
            assertTrue(state.owns(13), "in doubt out: still here until the commit point says otherwise");
            assertFalse(state.owns(30), "received, not activated");
            assertFalse(state.owns(21), "refused");

            final HostJournalState.Owned ten = state.owned().get(10L);
            assertEquals(2, ten.weight);
            assertEquals("kind-a", ten.kind);
            assertArrayEquals(bytes("s10"), ten.state);
            assertArrayEquals(bytes("s13'"), state.owned().get(13L).state, "the state as suspended");
            final HostJournalState.Owned twenty = state.owned().get(20L);
            assertEquals(3, twenty.weight, "the weight received");
            assertArrayEquals(bytes("s20"), twenty.state, "the state received");

            assertEquals(List.of(IN_DOUBT_OUT), state.pendingOut().stream().map(p -> p.migrationId).toList());
            final HostJournalState.Pending out = state.pendingOutOf(13);
            assertNotNull(out);
            assertEquals(3, out.peer);
            assertNull(state.pendingOutOf(10), "aborted out: ended");
            assertNull(state.pendingOutOf(12), "committed out: ended");

            assertEquals(List.of(RECEIVED_IN), state.pendingIn().stream().map(p -> p.migrationId).toList());
            final HostJournalState.Pending in = state.pendingIn().iterator().next();
            assertEquals(30, in.vmId);
            assertEquals(3, in.peer);
            assertArrayEquals(bytes("s30"), in.state);

            assertTrue(state.activated(ACTIVATED_IN));
            assertFalse(state.activated(RECEIVED_IN));
            assertEquals(1, state.activatedHere().size());
            assertEquals(List.of(REFUSED_IN), state.refusedHere(), "only a target's abort is a refusal");
            assertEquals(3, state.maxMigrationSequence());
            assertThrows(UnsupportedOperationException.class, () -> state.owned().remove(10L), "a read-only view");
        }
    }

    @Test
    void withoutGuestsTheSameMeaningAndNoStates(@TempDir final Path dir)
    {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 1))
        {
            write(journal);
            final HostJournalState state = new HostJournalState(false);
            journal.replay((index, record) -> state.apply(record));
            assertEquals(List.of(10L, 13L, 20L), List.copyOf(state.owned().keySet()));
            assertEquals(3, state.owned().get(20L).weight);
            assertNull(state.owned().get(10L).kind);
            assertNull(state.owned().get(10L).state);
            assertEquals(List.of(IN_DOUBT_OUT), state.pendingOut().stream().map(p -> p.migrationId).toList());
            assertEquals(List.of(RECEIVED_IN), state.pendingIn().stream().map(p -> p.migrationId).toList());
        }
    }

    @Test
    void aRecordWithoutAGuestPayloadIsReadWhenGuestsAreNotKept(@TempDir final Path dir)
    {
        // the tools' hand-written journals admit VMs with no payload
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 0))
        {
            journal.append(RecordType.ADMITTED, 0, 7, -1, 0, 0.1, 0);
            final HostJournalState state = HostJournalState.replay(journal, false);
            assertTrue(state.owns(7));
        }
    }

    @Test
    void theViewsKeepTheOrderTheRecordsCameIn(@TempDir final Path dir)
    {
        // the state is kept in hash maps: the views must still read in journal order, as recovery restarts them
        final long first = JournalRecord.migrationId(1, 8);
        final long second = JournalRecord.migrationId(1, 9);
        try (ChronicleJournal journal = ChronicleJournal.open(dir, 1))
        {
            for (final long vm : new long[]{ 40, 5, 1000, 3 })
            {
                journal.appendGuest(RecordType.ADMITTED, 0, vm, -1, 1, KIND, bytes("s" + vm));
            }
            journal.append(RecordType.MIGRATION_INTENT, second, 1000, 2, 0, 0, 0); // ids need not come in order
            journal.appendGuest(RecordType.SUSPENDED, second, 1000, 2, 1, KIND, bytes("s1000'"));
            journal.append(RecordType.MIGRATION_INTENT, first, 40, 2, 0, 0, 0);
            journal.append(RecordType.REMOVED, 0, 5, -1, 0, 0, 0);
            journal.appendGuest(RecordType.ADMITTED, 0, 5, -1, 1, KIND, bytes("s5 again"));
            final HostJournalState state = HostJournalState.replay(journal, true);

            assertEquals(List.of(40L, 1000L, 3L, 5L), List.copyOf(state.owned().keySet()),
                "a newer state keeps a VM's place; one owned again comes last");
            assertArrayEquals(bytes("s1000'"), state.owned().get(1000L).state);
            assertEquals(List.of(second, first), state.pendingOut().stream().map(p -> p.migrationId).toList(),
                "in order of intent");
            assertNull(state.owned().get(40), "an Integer key finds nothing, as in any Map<Long, ?>");
            assertFalse(state.owned().containsKey(40));
            assertThrows(UnsupportedOperationException.class, () -> state.pendingOut().clear(), "a read-only view");
        }
    }
}
