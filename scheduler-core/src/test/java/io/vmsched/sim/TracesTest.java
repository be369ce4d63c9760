package io.vmsched.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class TracesTest
{
    static final String HEADER = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\t" +
        "CPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t" +
        "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]";

    /** Writes a generated PlanetLab-format directory: one file per VM, one percentage per line. */
    static Path writePlanetLab(final Path dir, final int vms, final int steps, final long seed) throws IOException
    {
        Files.createDirectories(dir);
        final int[][] trace = SyntheticWorkload.diurnalBurstyPercent(vms, steps, seed);
        for (int v = 0; v < vms; v++)
        {
            final StringBuilder sb = new StringBuilder();
            for (final int value : trace[v])
            {
                sb.append(value).append('\n');
            }
            Files.writeString(dir.resolve(String.format("vm-%04d", v)), sb);
        }
        return dir;
    }

    /** Writes a generated Bitbrains-format directory with CPU, memory, disk and network columns. */
    static Path writeBitbrains(final Path dir, final int vms, final int steps, final long seed) throws IOException
    {
        Files.createDirectories(dir);
        final SplittableRandom random = new SplittableRandom(seed);
        for (int v = 0; v < vms; v++)
        {
            final List<String> lines = new ArrayList<>();
            lines.add(HEADER);
            final double provisioned = 2600 * (1 + random.nextInt(4));
            final double memory = 4_194_304 * (1 + random.nextInt(4));
            for (int t = 0; t < steps; t++)
            {
                final boolean burst = random.nextDouble() < 0.05;
                final double cpu = provisioned * (burst ? 0.9 : 0.05 * random.nextDouble());
                lines.add(String.format(java.util.Locale.ROOT, "%d;\t%d;\t%.4f;\t%.4f;\t%.2f;\t%.1f;\t%.1f;\t%.3f;\t%.3f;\t%.3f;\t%.3f",
                    1_372_629_804L + 300L * t, 4, provisioned, cpu, 100 * cpu / provisioned, memory,
                    memory * (0.2 + 0.5 * random.nextDouble()), burst ? 5000.0 : 10 * random.nextDouble(),
                    20 * random.nextDouble(), random.nextDouble(), random.nextDouble()));
            }
            Files.write(dir.resolve((v + 1) + ".csv"), lines);
        }
        return dir;
    }

    @Test
    void readsGeneratedPlanetLab(@TempDir final Path dir) throws IOException
    {
        writePlanetLab(dir, 30, 48, 1);
        final Workload workload = Traces.planetLab(dir);
        assertEquals(30, workload.vms());
        assertEquals(48, workload.steps());
        final int[][] expected = SyntheticWorkload.diurnalBurstyPercent(30, 48, 1);
        assertEquals(expected[7][11] / 100.0, workload.cpu(7, 11), 1e-6);
        assertEquals(0, workload.io(7, 11));
    }

    @Test
    void readsGeneratedBitbrainsWithAllThreeResources(@TempDir final Path dir) throws IOException
    {
        writeBitbrains(dir, 5, 40, 2);
        final Workload workload = Traces.bitbrains(dir, 2);
        assertEquals(5, workload.vms());
        assertEquals(40, workload.steps());
        assertTrue(workload.cpu(0, 0) > 0);
        assertTrue(workload.memory(0, 0) > 0);
        assertTrue(workload.io(0, 0) > 0);
        assertTrue(workload.weights().io() > 0 && workload.weights().memory() > 0, "memory and I/O count too");
    }

    @Test
    void planetLabErrorsNameFileAndLine(@TempDir final Path dir) throws IOException
    {
        Files.writeString(dir.resolve("a"), "5\n7\n");
        Files.writeString(dir.resolve("b"), "5\nseven\n");
        TraceFormatException ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertEquals(dir.resolve("b") + ":2: expected an integer CPU percentage, found 'seven'", ex.getMessage());

        Files.writeString(dir.resolve("b"), "5\n170\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertEquals(dir.resolve("b") + ":2: CPU percentage 170 is outside 0-100", ex.getMessage());

        Files.writeString(dir.resolve("b"), "5\nx\u0000\u001b[2J\r\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertEquals(dir.resolve("b") + ":2: expected an integer CPU percentage, found 'x??[2J'", ex.getMessage());

        Files.writeString(dir.resolve("b"), "\n\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertTrue(ex.getMessage().endsWith("b: no samples"), ex.getMessage());

        ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir.resolve("missing")));
        assertTrue(ex.getMessage().contains("not a directory"), ex.getMessage());
    }

    @Test
    void aPlanetLabFileOfAnotherLengthIsRefusedNotCutToSilently(@TempDir final Path dir) throws IOException
    {
        writePlanetLab(dir, 5, 48, 3);
        final Path shortFile = dir.resolve("vm-0002");
        final List<String> lines = Files.readAllLines(shortFile);
        Files.write(shortFile, lines.subList(0, 40));
        TraceFormatException ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertEquals(shortFile + ":41: the file ends after 40 samples; expected 48, as 4 of the 5 files have",
            ex.getMessage());

        // one sample too many, after a blank line: the line named is the extra sample's
        final List<String> longer = new ArrayList<>(lines);
        longer.add("");
        longer.add("7");
        Files.write(shortFile, longer);
        ex = assertThrows(TraceFormatException.class, () -> Traces.planetLab(dir));
        assertEquals(shortFile + ":50: sample 49 is past the 48 that 4 of the 5 files have", ex.getMessage());

        Files.write(shortFile, lines);
        assertEquals(48, Traces.planetLab(dir).steps(), "whole again, it reads");
    }

    @Test
    void bitbrainsFilesOfDifferentLengthsRunForTheShortest(@TempDir final Path dir) throws IOException
    {
        writeBitbrains(dir, 3, 40, 4);
        final List<String> lines = Files.readAllLines(dir.resolve("2.csv"));
        Files.write(dir.resolve("2.csv"), lines.subList(0, 1 + 37)); // the header and 37 samples
        assertEquals(37, Traces.bitbrains(dir, 1).steps());
    }

    /** Drops the samples {@code from} to {@code to} (0-based, exclusive) of a generated Bitbrains file, and jitters the rest by ±1 s. */
    static void cutGap(final Path file, final int from, final int to) throws IOException
    {
        final List<String> lines = Files.readAllLines(file);
        final List<String> out = new ArrayList<>();
        out.add(lines.get(0));
        for (int i = 1; i < lines.size(); i++)
        {
            final int sample = i - 1;
            if (sample >= from && sample < to)
            {
                continue;
            }
            final String[] fields = lines.get(i).split(";", 2);
            final long jittered = Long.parseLong(fields[0].strip()) + (sample % 3) - 1;
            out.add(jittered + ";" + fields[1]);
        }
        Files.write(file, out);
    }

    @Test
    void bitbrainsSamplesSitAtTheirTimestampsAcrossGapsTheGapsFilledAndMarked(@TempDir final Path dir) throws IOException
    {
        writeBitbrains(dir, 3, 60, 6);
        final Workload whole = Traces.bitbrains(dir, 1);
        // file 1 misses samples 10-19 (50 minutes), file 2 samples 30-32; file 3 is whole. The real set's
        // files each miss a day and more at different moments: read one row a step, every later sample
        // of a file would sit 10 steps early, and the files would no longer agree on the time.
        cutGap(dir.resolve("1.csv"), 10, 20);
        cutGap(dir.resolve("2.csv"), 30, 33);
        final Workload gapped = Traces.bitbrains(dir, 1);
        assertEquals(60, gapped.steps(), "the grid spans the timestamps, not the rows");
        for (int t = 0; t < 60; t++)
        {
            final boolean gap0 = t >= 10 && t < 20;
            final boolean gap1 = t >= 30 && t < 33;
            assertEquals(gap0, gapped.filled(0, t), "vm 0 step " + t);
            assertEquals(gap1, gapped.filled(1, t), "vm 1 step " + t);
            assertFalse(gapped.filled(2, t));
            assertFalse(whole.filled(0, t));
            final int source0 = gap0 ? 9 : t;
            final int source1 = gap1 ? 29 : t;
            assertEquals(whole.cpu(0, source0), gapped.cpu(0, t), 1e-9, "vm 0 at step " + t + ": held over the gap");
            assertEquals(whole.memory(0, source0), gapped.memory(0, t), 1e-3);
            assertEquals(whole.io(0, source0), gapped.io(0, t), 1e-3);
            assertEquals(whole.cpu(1, source1), gapped.cpu(1, t), 1e-9, "vm 1 at step " + t);
            assertEquals(whole.cpu(2, t), gapped.cpu(2, t), 1e-9);
        }
    }

    @Test
    void bitbrainsTimestampsThatGoBackAreRefused(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("1.csv");
        Files.writeString(file, HEADER + "\n600;2;3;4;5;6;7;8;9;10;11\n300;2;3;4;5;6;7;8;9;10;11\n");
        final TraceFormatException ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertEquals(file + ":3: the timestamp 300 is before the previous sample's, 600", ex.getMessage());
    }

    @Test
    void bitbrainsErrorsNameFileAndLine(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("1.csv");
        Files.writeString(file, "Timestamp;CPU\n1;2\n");
        TraceFormatException ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertTrue(ex.getMessage().startsWith(file + ":1: expected the Bitbrains header"), ex.getMessage());

        Files.writeString(file, HEADER + "\n1;2;3;4;5;6;7;8;9;10;11\n1;2;3\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertEquals(file + ":3: expected 11 ';'-separated fields, found 3", ex.getMessage());

        Files.writeString(file, HEADER + "\n1;2;3;4;5;6;x7;8;9;10;11\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertEquals(file + ":2: 'Memory usage [KB]' is not a number: 'x7'", ex.getMessage());

        Files.writeString(file, HEADER + "\n1;2;3;-4;5;6;7;8;9;10;11\n");
        ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertTrue(ex.getMessage().startsWith(file + ":2: 'CPU usage [MHZ]' must be a finite number >= 0"), ex.getMessage());

        Files.delete(file);
        ex = assertThrows(TraceFormatException.class, () -> Traces.bitbrains(dir, 1));
        assertTrue(ex.getMessage().contains("no trace files (*.csv)"), ex.getMessage());
    }
}
