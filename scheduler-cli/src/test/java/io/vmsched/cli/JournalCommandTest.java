package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.Faults;
import io.vmsched.guest.PacedBurnerGuest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The journal tools on journals the runtime wrote: 6 VMs on 3 hosts, three committed migrations, one
 * aborted by a fault at the target, one left in doubt (its acks lost, the cluster closed before it
 * resolved, as a crash leaves it), one removal; then corrupt, truncated and foreign copies.
 */
class JournalCommandTest extends CommandTest
{
    @TempDir
    static Path base;
    static Path data;
    static long records;

    static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    @BeforeAll
    static void writeJournals()
    {
        data = base.resolve("data");
        final AtomicBoolean failTarget = new AtomicBoolean();
        final AtomicBoolean loseAcks = new AtomicBoolean();
        final ClusterConfig config = ClusterConfig.of(3, data);
        config.host.balancing = false;
        config.host.handoffTimeoutNs = 100_000_000L;
        config.host.loadSnapshotPeriodNs = 50_000_000L;
        config.faults = (point, host, migrationId) ->
            point == Faults.Point.TARGET_AFTER_RECEIVED && failTarget.compareAndSet(true, false) ? Faults.Action.THROW :
            point == Faults.Point.TARGET_SEND_ACK && loseAcks.get() ? Faults.Action.DROP : Faults.Action.PROCEED;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 6; vm++)
            {
                cluster.admit((int)(vm % 3), vm, 1, new PacedBurnerGuest(0.01));
            }
            await("admissions", () -> cluster.placement().size() == 6 && cluster.host(0).vmCount() == 2 &&
                cluster.host(1).vmCount() == 2 && cluster.host(2).vmCount() == 2);
            final long[][] moves = { { 0, 1 }, { 1, 2 }, { 2, 0 } };
            for (final long[] move : moves)
            {
                final long before = cluster.migrationsCommitted();
                cluster.migrate(move[0], (int)move[1]);
                await("migration of vm " + move[0], () -> cluster.migrationsCommitted() == before + 1 &&
                    cluster.migrationsInFlight() == 0);
            }
            failTarget.set(true);
            cluster.migrate(4, 2);
            await("the abort", () -> cluster.migrationsAborted() == 1 && cluster.migrationsInFlight() == 0);
            cluster.remove(5);
            await("the removal", () -> cluster.placement().size() == 5);
            loseAcks.set(true);
            cluster.migrate(3, 1); // activated at host 1, but host 0 never hears so: in doubt at close
            await("the activation", () -> cluster.placement().get(3L) == 1);
        }
    }

    @Test
    void verifyPassesAndCountsTheInDoubtHandoffThenRecoveryResolvesIt() throws IOException
    {
        assertEquals(0, run("journal", "verify", data.toString()), err.toString());
        final String summary = out.toString().trim();
        assertTrue(summary.matches("verified: \\d+ records, 6 vms, 4 migrations, 0 lost, 0 duplicated, 1 in doubt"),
            summary);
        // recovery in a copy: the commit point (ACTIVATED at host 1) commits it at host 0
        final Path copy = copy(data, base.resolve("recovered"));
        final ClusterConfig config = ClusterConfig.of(3, copy);
        config.host.balancing = false;
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(5, cluster.recoveredVms());
            assertEquals(1, cluster.placement().get(3L));
        }
        assertEquals(0, run("journal", "verify", copy.toString()), err.toString());
        assertTrue(out.toString().trim().endsWith("4 migrations, 0 lost, 0 duplicated, 0 in doubt"), out.toString());
        assertEquals(0, run("journal", "stats", copy.toString()));
        assertTrue(out.toString().contains("4 committed, 1 aborted, 0 in doubt, 1 resolved by recovery"), out.toString());
    }

    @Test
    void dumpPrintsEveryRecordAndFilters()
    {
        assertEquals(0, run("journal", "dump", data.toString()), err.toString());
        final List<String> all = out.toString().lines().toList();
        assertEquals(0, run("journal", "verify", data.toString()));
        final long count = Long.parseLong(out.toString().replaceAll("verified: (\\d+) records.*\\s*", "$1"));
        assertEquals(count, all.size(), "one line per record");
        assertTrue(all.get(0).startsWith("#0 "), all.get(0));

        assertEquals(0, run("journal", "dump", data.toString(), "--vm", "4", "--type", "aborted"));
        final List<String> aborted = out.toString().lines().toList();
        assertEquals(2, aborted.size(), "aborted at the target, then at the source: " + aborted);
        assertTrue(aborted.get(0).contains("host 2") && aborted.get(0).contains("target failed before activating"),
            aborted.get(0));
        assertTrue(aborted.get(1).contains("host 1") && aborted.get(1).contains("the target did not activate it"),
            aborted.get(1));

        assertEquals(0, run("journal", "dump", data.toString(), "--type", "ACTIVATED", "--json"));
        final List<String> json = out.toString().lines().toList();
        assertEquals(4, json.size(), json.toString());
        assertTrue(json.get(0).matches("\\{\"seq\":\\d+,\"host\":1,\"index\":\\d+,\"timeNs\":\\d+,\"type\":\"ACTIVATED\"," +
            "\"migration\":\\d+,\"vm\":0,.*"), json.get(0));

        assertEquals(0, run("journal", "dump", data.toString(), "--from", "2", "--to", "4"));
        assertEquals(List.of("#2", "#3", "#4"), out.toString().lines().map(l -> l.split(" ")[0]).toList());

        assertEquals(2, run("journal", "dump", data.toString(), "--type", "nope"));
        assertTrue(err.toString().startsWith("vmsched journal dump: --type 'nope': expected one of"), err.toString());
    }

    @Test
    void replayRebuildsThePlacementAtAnyRecord()
    {
        assertEquals(0, run("journal", "dump", data.toString(), "--type", "ACTIVATED"));
        final String firstActivation = out.toString().lines().findFirst().orElseThrow();
        final long seq = Long.parseLong(firstActivation.substring(1, firstActivation.indexOf(' ')));
        assertEquals(0, run("journal", "replay", data.toString(), "--at", Long.toString(seq - 1)));
        assertTrue(out.toString().contains("host 0: ") && out.toString().lines().anyMatch(l -> l.startsWith("host 0:") &&
            l.contains("[0, 3]")), "vm 0 still on host 0 just before: " + out);
        assertEquals(0, run("journal", "replay", data.toString(), "--at", Long.toString(seq)));
        assertTrue(out.toString().lines().anyMatch(l -> l.startsWith("host 1:") && l.contains("0, 1, 4")) ||
            out.toString().lines().anyMatch(l -> l.startsWith("host 1:") && l.contains("[0, 1, 4]")),
            "vm 0 on host 1 from ACTIVATED on: " + out);
        assertEquals(0, run("journal", "replay", data.toString()));
        final String end = out.toString();
        assertTrue(end.lines().anyMatch(l -> l.startsWith("host 1:") && l.contains("3 vms [0, 3, 4]")), end);
        assertTrue(end.contains("in flight: migration") && end.contains("of vm 3, host 0 -> 1 (activated at the target)"), end);
        assertEquals(0, run("journal", "replay", data.toString(), "--at", "+0ms"));
        assertTrue(out.toString().startsWith("at record 0 "), out.toString());
        assertEquals(2, run("journal", "replay", data.toString(), "--at", "yesterday"));
        assertTrue(err.toString().contains("--at 'yesterday': expected a record number"), err.toString());
    }

    @Test
    void timelineStatsReportAndTail() throws IOException
    {
        assertEquals(0, run("journal", "timeline", data.toString(), "--vm", "0"));
        final String timeline = out.toString();
        final int admitted = timeline.indexOf("ADMITTED at host 0");
        final int intent = timeline.indexOf("migration 0x");
        final int activated = timeline.indexOf("ACTIVATED  at host 1");
        final int committed = timeline.indexOf("COMMITTED  at host 0");
        assertTrue(admitted >= 0 && admitted < intent && intent < activated && activated < committed, timeline);

        assertEquals(0, run("journal", "stats", data.toString()));
        final String stats = out.toString();
        assertTrue(stats.contains("4 committed, 1 aborted, 1 in doubt"), stats);
        assertTrue(stats.lines().anyMatch(l -> l.matches("intent→committed\\s+3\\s+\\d+.*")), stats);
        // by the code of the source's abort, which ends the migration (the target's is not counted)
        assertTrue(stats.lines().anyMatch(l -> l.matches("\\s+1  target-did-not-activate")), stats);
        assertFalse(stats.contains("target-failed-before-activating"), stats);

        final Path html = base.resolve("report.html");
        assertEquals(0, run("journal", "report", data.toString(), "--out", html.toString()));
        final String page = Files.readString(html, StandardCharsets.UTF_8);
        assertEquals(3, page.split("<polyline class=\"load\"", -1).length - 1, "a load line per host");
        assertTrue(page.contains("<polyline class=\"cv\"") && page.contains("class=\"migration\""), "CV and marks");
        assertFalse(page.contains("<script") || page.contains("src=\"http") || page.contains("href=\"http"), "self-contained");

        assertEquals(0, run("journal", "tail", data.toString(), "--count", "5"));
        assertEquals(5, out.toString().lines().count(), out.toString());

        assertEquals(2, run("journal", "timeline", data.toString(), "--vm", "99"));
        assertTrue(err.toString().contains("vm 99 does not appear in"), err.toString());
    }

    @Test
    void brokenJournalsGetOneLineNamingTheFileAndRecordAfterWhatIsReadable() throws IOException
    {
        final Path corrupt = copy(data, base.resolve("corrupt"));
        final Path host0 = queueFile(corrupt.resolve("journal").resolve("0"));
        final byte[] bytes = Files.readAllBytes(host0);
        final int at = lastIndexOf(bytes, "paced-burner".getBytes(StandardCharsets.UTF_8));
        bytes[at + 2] ^= 0x20;
        Files.write(host0, bytes);
        assertEquals(1, run("journal", "dump", corrupt.toString()));
        assertTrue(out.toString().lines().count() > 5, "what is readable is shown: " + out);
        final String message = err.toString().trim();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("vmsched journal dump: journal " + corrupt.resolve("journal").resolve("0") +
            ": record ") && message.contains("CRC32C mismatch"), message);
        assertEquals(1, run("journal", "verify", corrupt.toString()));
        assertTrue(err.toString().contains("CRC32C mismatch"), err.toString());

        final Path version = copy(data, base.resolve("version"));
        final Path file = queueFile(version.resolve("journal").resolve("2"));
        final byte[] v = Files.readAllBytes(file);
        final int kind = indexOf(v, "paced-burner".getBytes(StandardCharsets.UTF_8));
        v[kind - 2 - io.vmsched.journal.JournalRecord.HEADER_LENGTH] = 2; // the first ADMITTED record's schema version
        Files.write(file, v);
        assertEquals(1, run("journal", "dump", version.toString()));
        assertTrue(err.toString().contains("schema version 2 (this reader knows 1)"), err.toString());

        final Path truncated = copy(data, base.resolve("truncated"));
        final Path cut = queueFile(truncated.resolve("journal").resolve("1"));
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(cut,
            java.nio.file.StandardOpenOption.WRITE))
        {
            channel.truncate(2000);
        }
        assertEquals(1, run("journal", "verify", truncated.toString()));
        assertTrue(err.toString().contains("truncated") && err.toString().contains(".cq4"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace");

        assertEquals(2, run("journal", "verify", base.toString()));
        assertTrue(err.toString().contains("is not a vmsched journal"), err.toString());
    }

    @Test
    void theSameJournalsInOneDirectoryPerNodeReadAlikeAndAHostIsGivenOnce() throws IOException
    {
        final List<String> nodes = new java.util.ArrayList<>();
        for (int host = 0; host < 3; host++)
        {
            final Path node = base.resolve("node-" + host);
            copy(data.resolve("journal").resolve(Integer.toString(host)), node.resolve("journal").resolve(Integer.toString(host)));
            nodes.add(node.toString());
        }
        for (final String[] command : new String[][]{ { "verify" }, { "dump" }, { "timeline", "--vm", "3" }, { "stats" } })
        {
            final List<String> together = new java.util.ArrayList<>(List.of("journal", command[0], data.toString()));
            together.addAll(List.of(command).subList(1, command.length));
            assertEquals(0, run(together.toArray(new String[0])), err.toString());
            final String expected = out.toString();
            final List<String> apart = new java.util.ArrayList<>(List.of("journal", command[0]));
            apart.addAll(nodes);
            apart.addAll(List.of(command).subList(1, command.length));
            assertEquals(0, run(apart.toArray(new String[0])), err.toString());
            assertEquals(expected, out.toString(), "journal " + command[0] + " over the three nodes' directories");
        }

        assertEquals(2, run("journal", "verify", nodes.get(0), data.toString()));
        assertEquals("vmsched journal verify: host 0's journal is given twice, as " + base.resolve("node-0")
            .resolve("journal").resolve("0") + " and " + data.resolve("journal").resolve("0") +
            ": give each host's journal once", err.toString().trim());

        // host 2 left out: its handoffs are findings, not losses, and verify cannot pass
        assertEquals(1, run("journal", "verify", nodes.get(0), nodes.get(1)));
        final List<String> lines = out.toString().lines().toList();
        assertTrue(lines.size() >= 2 && lines.subList(0, lines.size() - 1).stream().allMatch(l ->
            l.matches("migration 0x[0-9a-f]+ of vm \\d+ names host 2, whose journal was not given")), out.toString());
        assertTrue(lines.get(lines.size() - 1).matches("verified: \\d+ records, \\d+ vms, \\d+ migrations, 0 lost, " +
            "0 duplicated, \\d+ in doubt"), out.toString());
    }

    static Path queueFile(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(f -> f.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    static Path copy(final Path from, final Path to) throws IOException
    {
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path p : paths.sorted(Comparator.naturalOrder()).toList())
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
        return to;
    }

    static int indexOf(final byte[] haystack, final byte[] needle)
    {
        // ISO-8859-1 maps each byte to one char, so the String search finds byte offsets
        return new String(haystack, StandardCharsets.ISO_8859_1)
            .indexOf(new String(needle, StandardCharsets.ISO_8859_1));
    }

    static int lastIndexOf(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = haystack.length - needle.length; i >= 0; i--)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
