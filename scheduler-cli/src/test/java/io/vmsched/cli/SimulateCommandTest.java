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

    @Test
    void theBalloonIsReportedInTextAndJsonOnAGeneratedMemoryOvercommitTrace()
    {
        assertEquals(0, run("simulate", "--workload", "memory-overcommit", "--vms", "200", "--hosts", "10", "--steps", "24",
            "--balloon", "--balloon-band", "0.85,0.7", "--balloon-reclaimable", "0.3"), err.toString());
        final String text = out.toString();
        assertTrue(text.contains("memory-overcommit (generated, seed 1): 200 VMs on 10 hosts, policy random-pair, 24 steps"), text);
        assertTrue(text.contains("settings (traces profile)"), text);
        assertTrue(text.matches("(?s).*balloon requests +[\\d,]+ to give \\((met|short|refused) \\d+.*\\), [\\d,]+ to take back\n.*"), text);
        assertTrue(text.matches("(?s).*memory reclaimed +\\d+\\.\\d GiB freed by answers; held out \\d+\\.\\d GiB at peak.*"), text);
        assertTrue(text.contains("hosts over at end      0 (the fullest at 0."), text);
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--workload", "memory-overcommit", "--vms", "200", "--hosts", "10", "--steps", "24",
            "--balloon", "--json"), err.toString());
        final String json = lastLine();
        assertTrue(json.contains("\"balloon\":{\"inflateAbove\":0.850000,\"deflateBelow\":0.700000,\"reclaimable\":0.300000,"),
            json);
        for (final String key : new String[] { "\"byOutcome\":{", "\"reclaimedTotalBytes\":", "\"reclaimedPeakBytes\":",
            "\"heldTurns\":", "\"hostsOverAtEnd\":0,", "\"migrations\":", "\"meanCv\":" })
        {
            assertTrue(json.contains(key), key + " in " + json);
        }
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--workload", "memory-overcommit", "--vms", "200", "--hosts", "10", "--steps", "24",
            "--json"), err.toString());
        assertFalse(lastLine().contains("balloon"), lastLine());
    }

    @Test
    void aDrainIsReportedInTextAndJson(@TempDir final Path dir) throws IOException
    {
        assertEquals(0, run("simulate", "--vms", "400", "--hosts", "10", "--steps", "20", "--drain", "3@4"), err.toString());
        final String text = out.toString();
        assertTrue(text.matches("(?s).*drain host 3 from step 4: empty in step \\d+ \\(\\d+ steps\\), \\d+ VMs moved, " +
            "\\d+ migrations; mean CV 0\\.\\d{4} before, 0\\.\\d{4} during, 0\\.\\d{4} since\n.*"), text);

        final Path file = dir.resolve("rules.txt");
        Files.writeString(file, "label gpu hosts=3\non-label gpu-only hard label=gpu vms=0,1\n");
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--vms", "400", "--hosts", "10", "--steps", "60", "--constraints", file.toString(),
            "--drain", "3@4", "--drain", "5@6", "--drain-parallel", "2"), err.toString());
        assertTrue(out.toString().contains("incomplete: 2 of "), out.toString());
        assertTrue(out.toString().contains("VMs left at the end"), out.toString());
        assertTrue(out.toString().contains("; blocked: VM 0 by gpu-only (host "), out.toString());
        assertTrue(out.toString().contains(", and 1 more VM\n"), out.toString());
        assertTrue(out.toString().contains("drain host 5 from step 6: empty in step "), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("simulate", "--vms", "400", "--hosts", "10", "--steps", "20", "--constraints", file.toString(),
            "--drain", "3@4", "--drain", "5@6", "--json"), err.toString());
        final String json = lastLine();
        assertTrue(json.contains("\"drains\":[{\"host\":3,\"startStep\":4,\"emptyStep\":null,\"complete\":false,"),
            json);
        assertTrue(json.contains("\"vmsLeft\":2,"), json);
        assertTrue(json.contains("\"blocked\":{\"0\":\"gpu-only (host "), json);
        assertTrue(json.contains("{\"host\":5,\"startStep\":6,\"emptyStep\":"), json);
        assertTrue(json.contains("\"complete\":true,"), json);
        assertTrue(json.contains("\"meanCvBefore\":"), json);
        assertTrue(json.contains("\"meanCvDuring\":"), json);
    }

    @Test
    void constraintsAreHonouredAndReported(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("rules.txt");
        Files.writeString(file, "# two labelled hosts\nlabel gpu hosts=0-1\nanti-affinity apart hard vms=0,1,2\n" +
            "on-label gpu-only hard label=gpu vms=3,4\n");
        assertEquals(0, run("simulate", "--vms", "200", "--hosts", "10", "--steps", "5", "--constraints", file.toString(),
            "--anti-affinity-pct", "20", "--json"), err.toString());
        final String json = lastLine();
        assertTrue(json.contains("\"rules\":{\"count\":22,\"hard\":22,"), json);
        assertTrue(json.contains("\"maxHardBroken\":0,"), json);

        assertEquals(0, run("simulate", "--vms", "200", "--hosts", "10", "--steps", "5", "--pin-half-to-labels",
            "--host-labels", "ssd:0-2,7,fast:9"), err.toString());
        assertTrue(out.toString().contains("hard broken            0 at end, max 0, 0 at start"), out.toString());
    }

    @Test
    void aBadConstraintsFileGetsOneLineWithItsFileAndLine(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("rules.txt");
        final java.util.Map<String, String> mistakes = new java.util.LinkedHashMap<>();
        mistakes.put("service web size=2\nanti-affinity x firm vms=1,2\n", ":2: rule x: expected hard or soft, got 'firm'");
        mistakes.put("\n\nanti-affinity x hard vms=1,500\n", ":3: rule x names vm 500, which is not in the cluster");
        mistakes.put("label gpu hosts=8-12\n", ":1: label gpu names host 10; the run has 10 hosts (ids 0-9)");
        mistakes.put("label gpu hosts=0-1\non-label g hard label=tpu vms=1\n", ":2: rule g names label tpu, which no host carries");
        mistakes.put("anti-affinity wide hard vms=1,2,3,4,5,6,7,8,9,10,11\n",
            ":1: hard anti-affinity rule wide over 11 VMs can never hold on 10 hosts");
        for (final java.util.Map.Entry<String, String> e : mistakes.entrySet())
        {
            Files.writeString(file, e.getKey());
            assertEquals(2, run("simulate", "--vms", "100", "--hosts", "10", "--constraints", file.toString()), e.getKey());
            assertEquals("vmsched simulate: " + file + e.getValue(), err.toString().trim(), e.getKey());
            assertEquals("", out.toString(), "nothing ran");
        }

        assertEquals(2, run("simulate", "--vms", "100", "--hosts", "10", "--host-labels", "0-3"));
        assertEquals("vmsched simulate: --host-labels expects LABEL:IDS[,IDS][,LABEL:IDS...] (host ids and ranges after " +
            "each label, e.g. a:0-49,b:50-99), got '0-3'", err.toString().trim());
        assertEquals(2, run("simulate", "--vms", "100", "--hosts", "10", "--host-labels", "a:0-10"));
        assertEquals("vmsched simulate: --host-labels names host 10 for label a; the run has 10 hosts (ids 0-9)",
            err.toString().trim());
        assertEquals(2, run("simulate", "--vms", "100", "--hosts", "10", "--anti-affinity-pairs", "51"));
        assertEquals("vmsched simulate: --anti-affinity-pairs 51 needs 102 VMs; the run has 100 (at most 50 pairs)",
            err.toString().trim());
        assertEquals(2, run("simulate", "--anti-affinity-pct", "120"));
        assertEquals(1, err.toString().trim().lines().count(), err.toString());
        assertTrue(err.toString().contains("--anti-affinity-pct"), err.toString());
    }
}
