package io.vmsched.cli;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code vmsched journal …} over the data directories of two node processes, hosts 4 and 9, whose
 * machines' clocks are 10 s apart: host 9's runs behind, so by timestamps its half of each handoff
 * would come before the source's intent.
 */
class JournalNodesCommandTest extends CommandTest
{
    private static final long SKEW_NS = 10_000_000_000L;

    @Test
    void timelineAndVerifyFollowEachHandoffAcrossNodesWhoseClocksDisagree(@TempDir final Path base)
    {
        final Path node4 = base.resolve("node-4");
        final Path node9 = base.resolve("node-9");
        final long[] trueNs = { System.currentTimeMillis() * 1_000_000L };
        final byte[] kind = "idle".getBytes(StandardCharsets.UTF_8);
        final long there = JournalRecord.migrationId(4, 1);
        final long back = JournalRecord.migrationId(9, 1);
        try (ChronicleJournal four = new ChronicleJournal(node4.resolve("journal").resolve("4"), 4, () -> trueNs[0] += 1_000_000);
            ChronicleJournal nine = new ChronicleJournal(node9.resolve("journal").resolve("9"), 9,
                () -> (trueNs[0] += 1_000_000) - SKEW_NS))
        {
            four.appendGuest(RecordType.ADMITTED, 0, 5, -1, 1, kind, new byte[0]);
            four.append(RecordType.MIGRATION_INTENT, there, 5, 9, 0, 0, 0);
            four.appendGuest(RecordType.SUSPENDED, there, 5, 9, 1, kind, new byte[0]);
            nine.appendGuest(RecordType.RECEIVED, there, 5, 4, 1, kind, new byte[0]);
            nine.append(RecordType.ACTIVATED, there, 5, 4, 0, 0, 0);
            four.append(RecordType.COMMITTED, there, 5, 9, 0, 0, 0);
            nine.append(RecordType.MIGRATION_INTENT, back, 5, 4, 0, 0, 0);
            nine.appendGuest(RecordType.SUSPENDED, back, 5, 4, 1, kind, new byte[0]);
            four.appendGuest(RecordType.RECEIVED, back, 5, 9, 1, kind, new byte[0]);
            four.append(RecordType.ACTIVATED, back, 5, 9, 0, 0, 0);
            nine.append(RecordType.COMMITTED, back, 5, 4, 0, 0, 0);
        }

        assertEquals(0, run("journal", "timeline", node4.toString(), node9.toString(), "--vm", "5"), err.toString());
        final List<String> steps = out.toString().lines().map(l -> l.substring(l.indexOf(' ')).trim()).toList();
        assertEquals(11, steps.size(), out.toString());
        assertTrue(steps.get(0).startsWith("ADMITTED at host 4"), out.toString());
        // each handoff in its message order; the back move's intent may come before the first's COMMITTED, which
        // it does not wait for (host 9's clock, behind, decides)
        final String[][] handoffs = {
            { "migration 0x40000000001: host 4 -> host 9", "SUSPENDED  at host 4", "RECEIVED   at host 9",
                "ACTIVATED  at host 9", "COMMITTED  at host 4" },
            { "migration 0x90000000001: host 9 -> host 4", "SUSPENDED  at host 9", "RECEIVED   at host 4",
                "ACTIVATED  at host 4", "COMMITTED  at host 9" } };
        for (final String[] handoff : handoffs)
        {
            int line = 0;
            for (final String step : handoff)
            {
                while (line < steps.size() && !steps.get(line).startsWith(step))
                {
                    line++;
                }
                assertTrue(line < steps.size(), "'" + step + "' in its place in:\n" + out);
            }
        }
        assertTrue(out.toString().contains("COMMITTED  at host 4  +4,000 us (migration 0x40000000001)"),
            "timed from its own intent, named when another handoff came between: " + out);
        assertTrue(out.toString().contains("RECEIVED   at host 9  -9,"), "a step's time since the intent is the " +
            "clocks' difference too: " + out);

        assertEquals(0, run("journal", "verify", node9.toString(), node4.toString()), out.toString());
        assertEquals("verified: 11 records, 1 vms, 2 migrations, 0 lost, 0 duplicated, 0 in doubt", out.toString().trim());
        assertEquals(0, run("journal", "dump", node4.toString(), node9.toString(), "--type", "COMMITTED"));
        assertEquals(2, out.toString().lines().count(), out.toString());

        assertEquals(1, run("journal", "verify", node4.toString()));
        assertEquals(List.of("migration 0x40000000001 of vm 5 names host 9, whose journal was not given",
            "migration 0x90000000001 of vm 5 names host 9, whose journal was not given",
            "verified: 6 records, 1 vms, 2 migrations, 0 lost, 0 duplicated, 0 in doubt"), out.toString().lines().toList());
    }
}
