package io.vmsched.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class DemoCommandTest extends CommandTest
{
    @Test
    void theClusterDemoBalancesAndJournalsEveryHost(@TempDir final Path dir) throws IOException
    {
        final int code = run("demo", "--duration", "8", "--hosts", "3", "--vms", "12", "--demand", "0.9", "--data",
            dir.toString());
        assertEquals(0, code, err.toString());
        final String text = out.toString();
        assertTrue(text.contains("12 guests wanting 0.90 cores in all (this machine has " +
            Runtime.getRuntime().availableProcessors() + ")"), "the demand as asked, beside the machine's cores: " + text);
        assertTrue(text.contains("t= 1s") && text.contains("t= 8s"), text);
        assertFalse(text.contains("error:"), text);
        final Matcher summary = Pattern.compile("(\\d+) migrations committed, (\\d+) aborted; 12 of 12 VMs placed")
            .matcher(text);
        assertTrue(summary.find(), text);
        assertTrue(Integer.parseInt(summary.group(1)) > 0, "it migrated: " + text);
        final Matcher cv = Pattern.compile("as placed ([0-9.]+) .*, first second [0-9.]+, last \\d+ s on average ([0-9.]+)")
            .matcher(text);
        assertTrue(cv.find(), text);
        final double placed = Double.parseDouble(cv.group(1));
        final double late = Double.parseDouble(cv.group(2));
        // Balanced: the imbalance of the placement as admitted (9, 3 and 0 guests) at least halved. Not
        // against the first second: hosts start moving within it. Nor lower: 12 lumpy guests on 3 hosts
        // can leave a host whose every guest is larger than half its excess, which no single move lowers.
        assertTrue(placed > 0.5, "the demo starts piled up: " + placed);
        assertTrue(late < placed / 2, "visibly balanced: " + placed + " -> " + late + "\n" + text);
        final Matcher perHost = Pattern.compile("per host \\[(\\d+), (\\d+), (\\d+)\\]").matcher(text);
        assertTrue(perHost.find() && Integer.parseInt(perHost.group(3)) > 0, "the empty host took guests: " + text);
        try (Stream<Path> runs = Files.list(dir))
        {
            final Path run = runs.findFirst().orElseThrow();
            assertTrue(Files.isRegularFile(run.resolve("counters.dat")), "the live counters file for vmsched stat");
            for (int h = 0; h < 3; h++)
            {
                assertTrue(Files.isDirectory(run.resolve("journal").resolve(Integer.toString(h))), "journal of host " + h);
            }
        }
    }

    @Test
    void badFlagsGetOneLineWithoutATrace(@TempDir final Path dir)
    {
        assertEquals(2, run("demo", "--hosts", "1", "--data", dir.toString()));
        final String message = err.toString().trim();
        assertEquals(1, message.lines().count(), message);
        assertEquals("vmsched demo: --hosts must be in [2, 64], got 1", message);

        err.getBuffer().setLength(0);
        assertEquals(2, run("demo", "--vms", "many"));
        assertTrue(err.toString().contains("--vms"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace for a user's mistake");
    }
}
