package io.vmsched.tools;

import io.vmsched.balance.DecisionOutcome;
import io.vmsched.journal.AbortReason;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hand-written journals of two hosts in which a step of a migration is journaled by the wrong side:
 * {@code verify} must name the record and the side it belongs to.
 */
class HistoryTest
{
    private static final long VM = 7;
    private static final long MIGRATION = JournalRecord.migrationId(0, 1);

    /** Host 0 admits the VM and journals its intent to move it to host 1; then {@code wrong} journals {@code step}. */
    private static History journal(final Path dir, final RecordType step, final int wrong)
    {
        try (ChronicleJournal source = ChronicleJournal.open(dir.resolve("0"), 0);
            ChronicleJournal target = ChronicleJournal.open(dir.resolve("1"), 1))
        {
            source.append(RecordType.ADMITTED, 0, VM, -1, 0, 0.1, 0);
            source.append(RecordType.MIGRATION_INTENT, MIGRATION, VM, 1, 0, 0.1, 0.1);
            (wrong == 0 ? source : target).append(step, MIGRATION, VM, wrong == 0 ? 1 : 0, 0, 0, 0);
        }
        return CrashJournalTest.verify(dir);
    }

    @Test
    void anActivationAtTheSourceIsNamed(@TempDir final Path dir)
    {
        final History history = journal(dir, RecordType.ACTIVATED, 0);
        assertNotNull(history.violation(), history.summary());
        assertTrue(history.violation().contains("activated at host 0, not at its target 1"), history.violation());
        assertTrue(history.violation().startsWith("record 2 (host 0, index"), history.violation());
    }

    @Test
    void aCommitAtTheTargetIsNamed(@TempDir final Path dir)
    {
        final History history = journal(dir, RecordType.COMMITTED, 1);
        assertNotNull(history.violation(), history.summary());
        assertTrue(history.violation().contains("committed at host 1, not at its source 0"), history.violation());
    }

    @Test
    void ownersFollowTheCommitPointAndAbortsAndDecisionsAreCountedByTheirCodes(@TempDir final Path dir)
    {
        final long aborted = JournalRecord.migrationId(0, 2);
        try (ChronicleJournal source = ChronicleJournal.open(dir.resolve("0"), 0);
            ChronicleJournal target = ChronicleJournal.open(dir.resolve("1"), 1))
        {
            source.append(RecordType.ADMITTED, 0, VM, -1, 1, 0, 0);
            source.append(RecordType.ADMITTED, 0, 8, -1, 1, 0, 0);
            source.appendText(RecordType.DECISION, 0, VM, 1, 1, 0.9, 0.1, DecisionOutcome.MOVED.code(), "moves 1");
            source.appendText(RecordType.DECISION, 0, -1, 1, 0, 0.5, 0.5, DecisionOutcome.WITHIN_THRESHOLD.code(),
                "difference within threshold");
            source.appendText(RecordType.DECISION, 0, -1, 1, 0, 0.5, 0.5, 0, "written before codes");
            // vm 8: the target refuses, the source aborts; two reasons, only the source's counts
            source.append(RecordType.MIGRATION_INTENT, aborted, 8, 1, 0, 0, 0);
            target.appendText(RecordType.ABORTED, aborted, 8, 0, 0, 0, 0, AbortReason.RESOLVED_BEFORE_TRANSFER.code(),
                "target: resolved before the transfer arrived");
            source.appendText(RecordType.ABORTED, aborted, 8, 1, 0, 0, 0, AbortReason.TARGET_DID_NOT_ACTIVATE.code(),
                "the target did not activate it");
            // vm 7: activated at the target, the source crashed before it committed
            source.append(RecordType.MIGRATION_INTENT, MIGRATION, VM, 1, 0, 0, 0);
            target.append(RecordType.RECEIVED, MIGRATION, VM, 0, 1, 0, 0);
            target.append(RecordType.ACTIVATED, MIGRATION, VM, 0, 0, 0, 0);
        }
        final History history = CrashJournalTest.verify(dir);
        assertNull(history.violation(), history.violation());
        assertEquals(Map.of(VM, 1, 8L, 0), history.owners(), "vm 7 is the target's from its ACTIVATED");
        assertEquals(1, history.inDoubt());
        assertTrue(history.host(0).owns(VM) && history.host(0).pendingOutOf(VM) != null,
            "the source's own journal still holds it, pending");
        assertEquals(Map.of("target-did-not-activate", 1L), history.abortReasons());
        assertEquals(Map.of("moved", 1L, "within-threshold", 1L, "unknown", 1L), history.decisions());
    }

    @Test
    void handoffsOpenAtOnceBeyondTheRecentOnesAreEachFoundAgain(@TempDir final Path dir)
    {
        // 100 intents before any other step: the later steps of most are no longer among the recent ones
        final int vms = 100;
        try (ChronicleJournal source = ChronicleJournal.open(dir.resolve("0"), 0);
            ChronicleJournal target = ChronicleJournal.open(dir.resolve("1"), 1))
        {
            for (int vm = 0; vm < vms; vm++)
            {
                source.append(RecordType.ADMITTED, 0, 1000 + vm, -1, 1, 0, 0);
            }
            for (int vm = 0; vm < vms; vm++)
            {
                source.append(RecordType.MIGRATION_INTENT, JournalRecord.migrationId(0, 1 + vm), 1000 + vm, 1, 0, 0, 0);
            }
            for (int vm = 0; vm < vms; vm++)
            {
                final long id = JournalRecord.migrationId(0, 1 + vm);
                target.append(RecordType.RECEIVED, id, 1000 + vm, 0, 1, 0, 0);
                target.append(RecordType.ACTIVATED, id, 1000 + vm, 0, 0, 0, 0);
            }
            for (int vm = vms - 1; vm >= 0; vm--)
            {
                source.append(RecordType.COMMITTED, JournalRecord.migrationId(0, 1 + vm), 1000 + vm, 1, 0, 0, 0);
            }
        }
        final History history = CrashJournalTest.verify(dir);
        assertNull(history.violation(), history.violation());
        assertEquals(vms, history.migrations().size(), "one handoff each, none made twice");
        assertEquals(vms, history.migrationsCommitted());
        assertEquals(0, history.inDoubt());
        assertEquals(JournalRecord.migrationId(0, 1), history.migrations().get(0).id, "in order of intent");
        assertTrue(history.migrations().stream().allMatch(m -> m.intentNs != 0 && m.committedNs != 0));
        assertTrue(history.owners().values().stream().allMatch(host -> host == 1));
    }
}
