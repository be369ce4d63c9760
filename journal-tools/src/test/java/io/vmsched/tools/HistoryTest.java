package io.vmsched.tools;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

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
}
