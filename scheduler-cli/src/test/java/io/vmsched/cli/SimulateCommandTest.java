package io.vmsched.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SimulateCommandTest extends CommandTest
{
    private String lastLine()
    {
        final List<String> lines = out.toString().lines().toList();
        return lines.get(lines.size() - 1);
    }

    @Test
    void syntheticRunEndsWithOneJsonLineOfTheSummary()
    {
        assertEquals(0, run("simulate", "--vms", "2000", "--hosts", "100", "--initial", "random", "--seed", "3",
            "--json"), err.toString());
        final String json = lastLine();
        for (final String key : List.of("\"hosts\":100", "\"vms\":2000", "\"steps\":", "\"policy\":\"random-pair\"",
            "\"migrations\":", "\"displacedVms\":", "\"initialCv\":", "\"finalCv\":", "\"meanCv\":", "\"maxOverMean\":",
            "\"stepsToConverge\":", "\"lowerBoundMigrations\":", "\"wallMillis\":"))
        {
            assertTrue(json.contains(key), key + " in " + json);
        }
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
    }

    @Test
    void traceRunPrintsATable(@TempDir final Path dir) throws IOException
    {
        for (int v = 0; v < 20; v++)
        {
            final StringBuilder sb = new StringBuilder();
            for (int t = 0; t < 30; t++)
            {
                sb.append((v * 7 + t * 3) % 90).append('\n');
            }
            Files.writeString(dir.resolve("vm" + v), sb);
        }
        assertEquals(0, run("simulate", "--trace", dir.toString(), "--format", "planetlab", "--policy", "greedy"),
            err.toString());
        final String text = out.toString();
        assertTrue(text.contains("20 VMs on 2 hosts, policy greedy, 30 steps"), text);
        assertTrue(text.contains("mean CV"), text);
        assertTrue(text.contains("CV by step:"), text);
    }

    @Test
    void theTraceProfileGossipsWithinEightContactsAndViewsCanBeChosen(@TempDir final Path dir) throws IOException
    {
        for (int v = 0; v < 20; v++)
        {
            Files.writeString(dir.resolve("vm" + v), (v * 5 % 60 + 1) + "\n" + (v * 3 % 40 + 2) + "\n");
        }
        assertEquals(0, run("simulate", "--trace", dir.toString()), err.toString());
        assertTrue(out.toString().contains("view=gossip peerChoices=8"), "the trace profile's view: " + out);
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--trace", dir.toString(), "--peer-choices", "4"), err.toString());
        assertTrue(out.toString().contains("view=gossip peerChoices=4"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--trace", dir.toString(), "--view", "contacts"), err.toString());
        assertTrue(out.toString().contains("view=contacts peerChoices=8"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--trace", dir.toString(), "--view", "global", "--peer-choices", "4"), err.toString());
        assertTrue(out.toString().contains("view=global"), out.toString());
    }

    @Test
    void dryRunShowsDecisionsWithReasons()
    {
        assertEquals(0, run("simulate", "--vms", "200", "--hosts", "10", "--steps", "2", "--dry-run"), err.toString());
        final String text = out.toString();
        assertTrue(text.contains("dry run: 20 decisions recorded, nothing moved"), text);
        assertTrue(text.contains("migrations                        0"), text);
        assertTrue(text.contains("host "), text);
    }

    @Test
    void badInputGetsOneLineNamingTheProblem(@TempDir final Path dir) throws IOException
    {
        Files.writeString(dir.resolve("vm1"), "10\n20\nabc\n");
        assertEquals(2, run("simulate", "--trace", dir.toString()));
        assertEquals("vmsched simulate: " + dir.resolve("vm1") + ":3: expected an integer CPU percentage, found 'abc'",
            err.toString().trim());

        err.getBuffer().setLength(0);
        assertEquals(2, run("simulate", "--policy", "best"));
        assertTrue(err.toString().contains("unknown policy 'best'"), err.toString());
        assertEquals(1, err.toString().trim().lines().count());

        err.getBuffer().setLength(0);
        assertEquals(2, run("simulate", "--hosts", "-3"));
        assertTrue(err.toString().contains("--hosts must be at least 1"), err.toString());
    }
}
