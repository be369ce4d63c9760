package io.vmsched.cli;

import io.vmsched.metrics.CountersFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The bad-input sweep, from the user's side: every mistake gets one line on stderr naming the flag
 * or file, the documented status (2 for a usage error), no stack trace, and nothing on disk changed.
 */
class UserMistakesTest extends CommandTest
{
    /**
     * Run a command that must be refused as a usage error.
     *
     * @param expected what the one line must hold (the flag, the file, the limit).
     * @param args     the command line.
     * @return the line.
     */
    private String refused(final String expected, final String... args)
    {
        final int status = run(args);
        final String text = err.toString();
        assertEquals(2, status, String.join(" ", args) + " -> " + text);
        assertEquals(1, text.lines().count(), "one line: " + text);
        final String line = text.trim();
        assertTrue(line.startsWith("vmsched"), line);
        assertTrue(line.contains(expected), "'" + expected + "' in: " + line);
        assertFalse(line.contains("Exception") || line.contains("at io.") || line.contains("\tat "), line);
        return line;
    }

    /** @return every file and directory under root with its size and modification time, to compare. */
    static Map<String, String> tree(final Path root) throws IOException
    {
        if (!Files.exists(root))
        {
            return Map.of();
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            return paths.collect(Collectors.toMap(p -> root.relativize(p).toString(), p ->
            {
                try
                {
                    return Files.isDirectory(p) ? "dir" : Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis();
                }
                catch (final IOException ex)
                {
                    throw new java.io.UncheckedIOException(ex);
                }
            }, (a, b) -> a, TreeMap::new));
        }
    }

    /** @return the one run directory (prefix + time) a demo made under data. */
    static Path onlyRun(final Path data, final String prefix) throws IOException
    {
        try (Stream<Path> runs = Files.list(data))
        {
            final List<Path> found = runs.filter(p -> p.getFileName().toString().startsWith(prefix)).collect(Collectors.toList());
            assertEquals(1, found.size(), "one " + prefix + "<time> folder: " + found);
            return found.get(0);
        }
    }

    @Test
    void dispatchDemoTwiceOnTheSameDataRunsTwiceInFreshFolders(@TempDir final Path dir) throws IOException
    {
        final String[] args = { "dispatch-demo", "--duration", "1", "--guests", "3", "--workers", "1", "--data", dir.toString() };
        assertEquals(0, run(args), err.toString());
        final Path first = onlyRun(dir, "dispatch-");
        final Map<String, String> before = tree(first);
        assertEquals(0, run(args), err.toString());
        assertEquals("", err.toString(), "the second run says nothing on stderr");
        try (Stream<Path> runs = Files.list(dir))
        {
            final List<Path> all = runs.sorted().collect(Collectors.toList());
            assertEquals(2, all.size(), all.toString());
            assertTrue(Files.isRegularFile(all.get(1).resolve("schedule.dat")), all.toString());
        }
        assertEquals(before, tree(first), "the first run's files are left as they were");

        final Path file = Files.writeString(dir.resolve("a-file"), "x");
        refused("--data " + file.resolve("d"), "dispatch-demo", "--duration", "1", "--data", file.resolve("d").toString());
        assertEquals("x", Files.readString(file));
    }

    @Test
    void simulateTooLargeForTheHeapIsRefusedBeforeAllocating()
    {
        String line = refused("--vms 2147483647 needs about", "simulate", "--vms", "2147483647");
        assertTrue(line.contains("at most "), line);
        refused("--hosts 2000000000 needs about", "simulate", "--vms", "10", "--hosts", "2000000000");
        refused("--steps 2147483647 needs about", "simulate", "--vms", "10", "--hosts", "2", "--steps", "2147483647");

        // the limit named is what the budget holds beside the other settings: (160e6 - 50 x 160 - 200 x 16) / 160
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> SimulateCommand.checkHeap(10_000_000, "--vms", 50, 200, 160_000_000));
        assertTrue(ex.getMessage().contains("--vms 10000000 needs about 1,525 MiB of heap, more than the 152 MiB"),
            ex.getMessage());
        assertTrue(ex.getMessage().contains("at most 999,930 with the other settings as given"), ex.getMessage());
        SimulateCommand.checkHeap(999_930, "--vms", 50, 200, 160_000_000); // just fits
    }

    @Test
    void statOnATruncatedOrMisplacedCountersFileSaysWhich(@TempDir final Path dir) throws IOException
    {
        final Path file;
        try (CountersFile counters = CountersFile.create(dir, 8, 1000))
        {
            counters.allocate("cpu", CountersFile.TYPE_PPM, -1);
            file = counters.path();
        }
        final long whole = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.truncate(1000);
        }
        final Map<String, String> before = tree(dir);
        refused(file + " is truncated: expected " + whole + " bytes, has 1000", "stat", "--data", dir.toString(), "--once");
        assertEquals(before, tree(dir), "stat only reads");

        Files.delete(file);
        Files.createDirectory(file);
        refused(file + " is a directory, not a counters file", "stat", "--data", dir.toString(), "--json");
        Files.delete(file);
        Files.createFile(file);
        refused(file + " is empty (0 bytes)", "stat", "--data", dir.toString(), "--once");
    }

    @Test
    void dispatchDemoWorkersAreBoundedAndTheMostStillKeepsTheDuration(@TempDir final Path dir) throws IOException
    {
        final Path data = dir.resolve("data");
        refused("--workers must be in [0, 64], got 100000", "dispatch-demo", "--workers", "100000", "--data", data.toString());
        refused("--workers must be in [0, 64], got -1", "dispatch-demo", "--workers", "-1", "--data", data.toString());
        assertFalse(Files.exists(data), "a refused run makes nothing");

        final long start = System.nanoTime();
        assertEquals(0, run("dispatch-demo", "--workers", "64", "--duration", "2", "--guests", "3", "--data",
            data.toString()), err.toString());
        final double seconds = (System.nanoTime() - start) / 1e9;
        final List<String> ticks = out.toString().lines().filter(l -> l.matches("t=\\d+s  slices.*")).collect(Collectors.toList());
        assertEquals(2, ticks.size(), out.toString());
        // generous for a shared 2-core machine; 1,024 workers took minutes here to start and stop
        assertTrue(seconds < 30, "64 workers, --duration 2: " + seconds + " s");
    }

    @Test
    void aShortPlanetLabFileIsNamedWithItsLineAndTheLengthExpected(@TempDir final Path dir) throws IOException
    {
        for (int v = 0; v < 4; v++)
        {
            final StringBuilder sb = new StringBuilder();
            for (int t = 0; t < (v == 2 ? 20 : 30); t++)
            {
                sb.append((v * 7 + t * 3) % 90).append('\n');
            }
            Files.writeString(dir.resolve("vm" + v), sb);
        }
        final Map<String, String> before = tree(dir);
        refused(dir.resolve("vm2") + ":21: the file ends after 20 samples; expected 30, as 3 of the 4 files have",
            "simulate", "--trace", dir.toString());
        assertEquals(before, tree(dir));
    }

    @Test
    void negativeCountsMalformedOffsetsAndNaNAreRefusedNamingTheFlag(@TempDir final Path dir) throws IOException
    {
        final String journal = dir.toString(); // flags are checked before the directory is opened
        refused("--at '+-5s'", "journal", "replay", journal, "--at", "+-5s");
        refused("--at '+NaNs'", "journal", "replay", journal, "--at", "+NaNs");
        refused("--at '+Infinitys'", "journal", "replay", journal, "--at", "+Infinitys");
        refused("--at '99999999999999999999'", "journal", "replay", journal, "--at", "99999999999999999999");
        refused("--count must be at least 0 (0: never stop), got -1", "journal", "tail", journal, "--count", "-1");
        refused("--from must be at least 0, got -1", "journal", "dump", journal, "--from", "-1");
        refused("--to must be at least 10 (--from), got 5", "journal", "dump", journal, "--from", "10", "--to", "5");
        refused("--vm must be at least 0, got -1", "journal", "dump", journal, "--vm", "-1");
        refused("--vm must be at least 0, got -1", "journal", "timeline", journal, "--vm", "-1");
        final Path report = Files.createDirectory(dir.resolve("report.html"));
        refused("--out " + report + " is a directory", "journal", "report", journal, "--out", report.toString());
        refused("no directory " + dir.resolve("none"), "journal", "report", journal, "--out",
            dir.resolve("none").resolve("r.html").toString());

        refused("--threshold must be a finite number >= 0, got NaN", "simulate", "--threshold", "NaN");
        refused("--smoothing must be a finite number >= 1, got NaN", "simulate", "--smoothing", "NaN");
        refused("--min-gain must be a finite number >= 0, got Infinity", "simulate", "--min-gain", "Infinity");
        refused("--size-exponent must be a number in [0, 2], got 3.0", "simulate", "--size-exponent", "3");
        refused("--ping-pong must be at least 0, got -1", "simulate", "--ping-pong", "-1");
        refused("--steps must be at least 0 (0: the default), got -1", "simulate", "--steps", "-1");
        refused("--peer-choices must be at least 1, got 0", "simulate", "--peer-choices", "0");
        refused("--peer-choices must be at most 8, got 128 (a host contacts at most 8 peers per exchange)", "simulate",
            "--peer-choices", "128");
        refused("unknown --view 'rumour': expected contacts, gossip or global", "simulate", "--view", "rumour");
        refused("unknown --profile 'fast': expected static, traces or claims", "simulate", "--profile", "fast");
        refused("--add-hosts expects N@STEP (N >= 1 hosts joining as step STEP >= 1 starts), got '32'", "simulate",
            "--add-hosts", "32");
        refused("--add-hosts expects N@STEP (N >= 1 hosts joining as step STEP >= 1 starts), got '4@0'", "simulate",
            "--add-hosts", "4@0");
        refused("--hosts must be at least 2 to balance", "simulate", "--hosts", "1");
        refused("--drain expects HOST@STEP (a host id >= 0, drained as step STEP >= 1 starts), got '3'", "simulate",
            "--drain", "3");
        refused("--drain expects HOST@STEP (a host id >= 0, drained as step STEP >= 1 starts), got '3@0'", "simulate",
            "--drain", "3@0");
        refused("--drain expects HOST@STEP (a host id >= 0, drained as step STEP >= 1 starts), got 'host3@5'", "simulate",
            "--drain", "host3@5");
        refused("--drain names host 3 twice ('3@9'): a host is drained once", "simulate", "--drain", "3@2", "--drain", "3@9");
        refused("--drain-parallel must be at least 1, got 0", "simulate", "--drain", "3@2", "--drain-parallel", "0");
        refused("--balloon-band expects ABOVE,BELOW, shares of a host's memory with 0 <= BELOW < ABOVE <= 1 (e.g. " +
            "0.85,0.70), got '0.70,0.85'", "simulate", "--balloon", "--balloon-band", "0.70,0.85");
        refused("--balloon-band expects ABOVE,BELOW", "simulate", "--balloon", "--balloon-band", "1.2,0.5");
        refused("--balloon-band expects ABOVE,BELOW", "simulate", "--balloon", "--balloon-band", "0.85");
        refused("--balloon-band expects ABOVE,BELOW", "simulate", "--balloon", "--balloon-band", "high,low");
        refused("--balloon-reclaimable must be a number in [0, 1], got 1.5", "simulate", "--balloon",
            "--balloon-reclaimable", "1.5");
        refused("--balloon-reclaimable must be a number in [0, 1], got -0.1", "simulate", "--balloon-reclaimable", "-0.1");
        refused("--balloon-reclaimable must be a number in [0, 1], got NaN", "simulate", "--balloon-reclaimable", "NaN");
        refused("unknown --workload 'memory': expected static or memory-overcommit", "simulate", "--workload", "memory");
        refused("--workload memory-overcommit with --vms 2000000 and --steps 100000 needs about", "simulate", "--workload",
            "memory-overcommit", "--vms", "2000000", "--steps", "100000");
        refused("--drain moves VMs: it cannot be combined with --dry-run", "simulate", "--drain", "3@2", "--dry-run");
        refused("--interval-ms must be in [100, 3600000], got 99999999999", "stat", "--data", journal, "--interval-ms",
            "99999999999");
        refused("--duration must be at least 1 second, got -1", "demo", "--duration", "-1", "--data", journal);
        refused("--demand must be a number in [0.001, 1024], got NaN", "demo", "--demand", "NaN", "--data", journal);
        assertEquals(Map.of("", "dir", "report.html", "dir"), tree(dir), "nothing made by a refused command");
    }

    @Test
    void aDrainOfAHostOrAStepTheRunDoesNotHaveIsNamed(@TempDir final Path dir) throws IOException
    {
        refused("--drain 12@2: there is no host 12 (the run has 10 hosts, ids 0-9)", "simulate", "--vms", "100",
            "--hosts", "10", "--drain", "12@2");
        refused("--drain 4@5: step 5 is beyond the run's 5 steps (a drain starts at step 1 to 4)", "simulate", "--vms",
            "100", "--hosts", "10", "--steps", "5", "--drain", "4@5");
        refused("--drain 11@3: host 11 joins only at step 6 (--add-hosts)", "simulate", "--vms", "100", "--hosts", "10",
            "--add-hosts", "2@6", "--drain", "11@3");
        refused("--drain drains all 2 hosts: at least one must stay in service", "simulate", "--vms", "100", "--hosts", "2",
            "--drain", "0@2", "--drain", "1@3");
        for (int v = 0; v < 4; v++)
        {
            final StringBuilder sb = new StringBuilder();
            for (int t = 0; t < 30; t++)
            {
                sb.append((v * 7 + t * 3) % 90).append('\n');
            }
            Files.writeString(dir.resolve("vm" + v), sb);
        }
        final Map<String, String> before = tree(dir);
        refused("--drain 1@30: step 30 is beyond the run's 30 steps (a drain starts at step 1 to 29)", "simulate",
            "--trace", dir.toString(), "--hosts", "2", "--drain", "1@30");
        refused("--drain 1@400: step 400 is beyond the run's 30 steps", "simulate", "--trace", dir.toString(),
            "--hosts", "2", "--drain", "1@400");
        assertEquals(before, tree(dir));
    }

    @Test
    void everyUsageErrorIsOneLineWithAHint()
    {
        assertEquals("vmsched simulate: unknown option '--bogus' (see 'vmsched simulate --help')",
            refused("--bogus", "simulate", "--bogus"));
        refused("Missing required parameter for option '--vms'", "simulate", "--vms");
        refused("Invalid value for option '--vms': 'abc' is not an int", "simulate", "--vms", "abc");
        assertEquals("vmsched: unknown command 'frob' (see 'vmsched --help')", refused("frob", "frob"));
        refused("did you mean demo", "demoo");
        assertEquals("vmsched journal: unknown command 'frob' (see 'vmsched journal --help')",
            refused("frob", "journal", "frob"));
        refused("a command is needed", new String[0]);
        refused("a journal command is needed", "journal");
        refused("Missing required parameter: '<dir>' (see 'vmsched journal verify --help')", "journal", "verify");
        refused("Missing required option: '--vm=<vm>'", "journal", "timeline", "somewhere");
        refused("Unknown subcommand 'frob'", "help", "frob");
        assertEquals("vmsched dispatch-demo: unknown option '--dration' (see 'vmsched dispatch-demo --help')",
            refused("--dration", "dispatch-demo", "--dration", "4"));
        refused("unknown option '--vm'; did you mean --vms?", "simulate", "--vm", "5");
        refused("Unmatched argument at index 1: 'extra'", "stat", "extra");
        refused("somewhere is not a directory", "journal", "verify", "somewhere", "extra"); // several DIRs, in order
    }

    @Test
    void missingEmptyOrGarbageFilesAndDirectoriesGetOneLine(@TempDir final Path dir) throws IOException
    {
        final Path file = Files.writeString(dir.resolve("a-file"), "x");
        final Path empty = Files.createDirectory(dir.resolve("empty"));
        final Path garbage = Files.createDirectory(dir.resolve("garbage"));
        final Path garbageCsv = Files.createDirectory(dir.resolve("garbage-csv"));
        final byte[] bytes = new byte[4096];
        new java.util.Random(1).nextBytes(bytes);
        Files.write(garbage.resolve("vm1"), bytes);
        Files.write(garbageCsv.resolve("1.csv"), bytes);
        final Map<String, String> before = tree(dir);

        refused(file + ": not a directory of trace files", "simulate", "--trace", file.toString());
        refused(empty + ": no trace files", "simulate", "--trace", empty.toString());
        refused(garbage.resolve("vm1") + ": not a text file", "simulate", "--trace", garbage.toString());
        refused(garbageCsv.resolve("1.csv") + ": not a text file", "simulate", "--trace", garbageCsv.toString(), "--format",
            "bitbrains");
        refused("--format must be planetlab or bitbrains, got 'csv'", "simulate", "--trace", garbage.toString(),
            "--format", "csv");
        refused("no counters file at " + dir.resolve("none").resolve("counters.dat"), "stat", "--data",
            dir.resolve("none").toString(), "--once");
        refused(dir.resolve("none") + " is not a directory", "journal", "verify", dir.resolve("none").toString());
        refused(file + " is not a directory", "journal", "stats", file.toString());
        refused(empty + " is not a vmsched journal", "journal", "dump", empty.toString());
        refused("--data " + file + " is a file, not a directory", "demo", "--duration", "1", "--data", file.toString());
        refused("--data " + file + " is a file, not a directory", "dispatch-demo", "--data", file.toString());
        refused("--data " + file + " is a file, not a directory", "stat", "--data", file.toString());
        refused("--data " + file + " is a file, not a directory", "node", "--data", file.toString());
        assertEquals(before, tree(dir), "nothing on disk changed");
    }
}
