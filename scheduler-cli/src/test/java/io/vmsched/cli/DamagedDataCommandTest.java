package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.DataDirectory;
import io.vmsched.guest.PacedBurnerGuest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The commands on a damaged or busy data directory, as a user meets them: the journal tools and
 * {@code vmsched node} name the damaged or missing file in one line (exit 1) instead of reading it as
 * an empty host and inventing losses; a second node on a directory in use is refused with the
 * owner's pid.
 */
class DamagedDataCommandTest extends CommandTest
{
    @TempDir
    static Path base;
    static Path data;

    @BeforeAll
    static void writeJournals()
    {
        data = base.resolve("data");
        final ClusterConfig config = ClusterConfig.of(3, data);
        config.host.balancing = false;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 6; vm++)
            {
                cluster.admit((int)(vm % 3), vm, 1, new PacedBurnerGuest(0.01, 0.5, 10_000, vm));
            }
            JournalCommandTest.await("admissions", () -> cluster.placement().size() == 6 &&
                cluster.host(0).vmCount() + cluster.host(1).vmCount() + cluster.host(2).vmCount() == 6);
        }
    }

    /** A damage to host 1's journal. */
    private interface Damage
    {
        void apply(Path journal) throws IOException;
    }

    @Test
    void theToolsNameADamagedOrMissingFileInsteadOfInventingLosses() throws Exception
    {
        final Map<String, Damage> cases = new LinkedHashMap<>();
        for (final long size : new long[]{ 0, 1, 200 })
        {
            cases.put("cq4 of " + size + " bytes", journal -> truncate(JournalCommandTest.queueFile(journal), size));
        }
        cases.put("cq4 deleted", journal -> Files.delete(JournalCommandTest.queueFile(journal)));
        cases.put("host directory emptied", journal ->
        {
            try (var files = Files.list(journal))
            {
                for (final Path f : files.toList())
                {
                    Files.delete(f);
                }
            }
        });
        cases.put("host directory deleted", journal ->
        {
            try (var files = Files.list(journal))
            {
                for (final Path f : files.toList())
                {
                    Files.delete(f);
                }
            }
            Files.delete(journal);
        });
        cases.put("host directory replaced by a file", journal ->
        {
            try (var files = Files.list(journal))
            {
                for (final Path f : files.toList())
                {
                    Files.delete(f);
                }
            }
            Files.delete(journal);
            Files.writeString(journal, "not a journal");
        });
        int n = 0;
        for (final Map.Entry<String, Damage> c : cases.entrySet())
        {
            final Path copy = JournalCommandTest.copy(data, base.resolve("case-" + n++));
            final Path journal = copy.resolve("journal").resolve("1");
            c.getValue().apply(journal);
            for (final String command : new String[]{ "verify", "dump", "stats", "replay" })
            {
                assertEquals(1, run("journal", command, copy.toString()), c.getKey() + ", " + command + ": " + err);
                final String message = err.toString().trim();
                assertEquals(1, message.lines().count(), c.getKey() + ", " + command + ": one line: " + message);
                assertTrue(message.contains(journal.toString()), c.getKey() + ", " + command + ": names it: " + message);
                assertFalse(message.contains("lost") && !message.contains("would be lost"),
                    c.getKey() + ": invents no loss: " + message);
                assertFalse(out.toString().contains("lost"), c.getKey() + ": invents no loss: " + out);
            }
        }
    }

    @Test
    void aNodeOnADamagedJournalIsRefusedAndASecondNodeOnABusyDirectoryNamesTheOwner() throws Exception
    {
        final Path damaged = base.resolve("node-damaged");
        final ClusterConfig config = ClusterConfig.of(1, damaged);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 1, 1, new PacedBurnerGuest(0.01, 0.5, 10_000, 1));
            JournalCommandTest.await("admission", () -> cluster.host(0).vmCount() == 1);
        }
        final Path cq4 = JournalCommandTest.queueFile(config.journalDir(0));
        truncate(cq4, 50);
        assertEquals(1, run("node", "--data", damaged.toString(), "--guests", "0"));
        final String message = err.toString().trim();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("vmsched node: journal file " + cq4 + ": cut short of its own header: 50 bytes"),
            message);
        assertEquals(50, Files.size(cq4), "nothing on disk changed");

        final Path busy = base.resolve("node-busy");
        try (Cluster owner = Cluster.start(ClusterConfig.of(1, busy)))
        {
            assertEquals(1, run("node", "--data", busy.toString(), "--guests", "0"));
            assertEquals("vmsched node: data directory " + busy + " is in use by process " + ProcessHandle.current().pid() +
                " (lock " + busy.resolve(DataDirectory.LOCK_FILE) + "); stop it first, or use another directory",
                err.toString().trim());
            assertEquals(1, owner.hostCount());
        }
    }

    private static void truncate(final Path file, final long size) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(size);
        }
    }
}
