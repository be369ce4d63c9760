package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.JournalCorruptException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A damaged or missing journal file is never read as an empty host: the start is refused with one
 * line naming the file, and nothing on disk changes. Each case damages a copy of a real cluster's
 * data directory the way a user reported (truncate, flip a byte, delete, replace by a directory).
 */
class DamagedJournalTest
{
    private static final int VMS = 16;

    @BeforeEach
    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    /** A damage to host 0's journal, and the words its refusal must contain. */
    private interface Damage
    {
        void apply(Path cq4, Path journalDir) throws IOException;
    }

    @Test
    void everyDamageIsRefusedInOneLineNamingTheFileAndNothingChanges(@TempDir final Path dir) throws Exception
    {
        final Path original = dir.resolve("original");
        populate(original);
        final Path cq4 = cq4Of(original.resolve("journal/0"));
        final long length = Files.size(cq4);
        final long recordsEnd = dataEnd(cq4);
        assertTrue(recordsEnd > 67_000 && recordsEnd < length, "records end at byte " + recordsEnd); // index, then records

        final Map<String, Damage> cases = new LinkedHashMap<>();
        for (final long size : new long[]{ 0, 1, 8, 50, 100, 200, 4096, recordsEnd / 2, recordsEnd - 1000, recordsEnd - 1 })
        {
            cases.put("truncated to " + size + " bytes", (file, journal) -> truncate(file, size));
        }
        for (final long at : new long[]{ 0, 3, 16, 0x40, 0x48 })
        {
            cases.put("header byte " + at + " flipped", (file, journal) -> flip(file, at));
        }
        cases.put("a record's byte flipped", (file, journal) -> flip(file, recordsEnd - 1000));
        cases.put(".cq4 deleted", (file, journal) -> Files.delete(file));
        cases.put(".cq4 and metadata deleted", (file, journal) ->
        {
            Files.delete(file);
            Files.delete(journal.resolve(JournalCheck.METADATA_FILE));
        });
        cases.put(".cq4 replaced by a directory", (file, journal) ->
        {
            Files.delete(file);
            Files.createDirectory(file);
        });

        for (final Map.Entry<String, Damage> c : cases.entrySet())
        {
            final Path copy = dir.resolve("case-" + cases.keySet().stream().toList().indexOf(c.getKey()));
            copyTree(original, copy);
            final Path journal = copy.resolve("journal/0");
            c.getValue().apply(journal.resolve(cq4.getFileName()), journal);
            final Map<String, String> before = digest(copy);
            final JournalCorruptException refused = assertThrows(JournalCorruptException.class,
                () -> Cluster.start(ClusterTest.config(2, copy)), c.getKey());
            final String message = refused.getMessage();
            assertEquals(1, message.lines().count(), c.getKey() + ": one line: " + message);
            assertTrue(message.contains(journal.toString()), c.getKey() + ": names the journal: " + message);
            assertFalse(message.matches(".*[^\\x20-\\x7E\\u2026].*"), c.getKey() + ": no binary noise: " + message);
            assertEquals(before, digest(copy), c.getKey() + ": nothing on disk changed");
            System.out.println(c.getKey() + " -> " + message.replace(copy.toString(), "<data>"));
        }
    }

    @Test
    void anIntactCopyStartsWithEveryVm(@TempDir final Path dir) throws Exception
    {
        final Path original = dir.resolve("original");
        populate(original);
        final Path copy = dir.resolve("copy");
        copyTree(original, copy);
        try (Cluster cluster = Cluster.start(ClusterTest.config(2, copy)))
        {
            assertEquals(VMS, cluster.recoveredVms());
        }
    }

    private static void populate(final Path data)
    {
        try (Cluster cluster = Cluster.start(ClusterTest.config(2, data)))
        {
            for (long vm = 0; vm < VMS; vm++)
            {
                cluster.admit((int)(vm % 2), vm, 1, new TrackingGuest(vm));
            }
            Await.until("admitted", 10, () -> cluster.host(0).vmCount() + cluster.host(1).vmCount() == VMS);
            for (long vm = 0; vm < VMS; vm += 2)
            {
                cluster.migrate(vm, 1);
            }
            Await.until("migrated", 10, () -> cluster.migrationsCommitted() == VMS / 2);
        }
    }

    private static Path cq4Of(final Path journal) throws IOException
    {
        try (Stream<Path> files = Files.list(journal))
        {
            final List<Path> cq4 = files.filter(f -> f.toString().endsWith(JournalCheck.SUFFIX)).toList();
            assertEquals(1, cq4.size(), "one cycle file: " + cq4);
            return cq4.get(0);
        }
    }

    /** The end of the last record: past it the pre-allocated file is zeros. */
    private static long dataEnd(final Path file) throws IOException
    {
        final byte[] bytes = Files.readAllBytes(file);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0)
        {
            end--;
        }
        return end;
    }

    private static void truncate(final Path file, final long size) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(size);
        }
    }

    private static void flip(final Path file, final long at) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(at);
            final int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0x5A);
        }
    }

    private static void copyTree(final Path from, final Path to) throws IOException
    {
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path p : paths.toList())
            {
                final Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** Every file and directory under a data directory with its content's digest (the lock file aside). */
    private static Map<String, String> digest(final Path root) throws Exception
    {
        final Map<String, String> result = new TreeMap<>();
        final MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> paths = Files.walk(root))
        {
            for (final Path p : paths.toList())
            {
                final String name = root.relativize(p).toString();
                if (name.equals(DataDirectory.LOCK_FILE))
                {
                    continue;
                }
                result.put(name, Files.isDirectory(p) ? "dir" : HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p))));
            }
        }
        return result;
    }
}
