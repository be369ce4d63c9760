package io.vmsched.sim;

import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadWeights;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Readers of real workload traces into a {@link Workload}.
 * <ul>
 *     <li>PlanetLab / CoMon: a directory with one text file per VM, one integer CPU utilisation
 *     percentage (0-100) per line, every line one fixed interval. CPU only; a VM is one reference
 *     core, a host ten. Every file covers the same period (a day: 288 five-minute samples), so all
 *     must have as many samples: a file with fewer or more than most have is refused, naming it, the
 *     line and the length expected, rather than cutting the whole run to it.</li>
 *     <li>Bitbrains (GWA-T-12): a directory with one {@code .csv} per VM, {@code ;}-separated (tabs or
 *     spaces around fields allowed) under the header {@code Timestamp [ms];CPU cores;CPU capacity
 *     provisioned [MHZ];CPU usage [MHZ];CPU usage [%];Memory capacity provisioned [KB];Memory usage
 *     [KB];Disk read throughput [KB/s];Disk write throughput [KB/s];Network received throughput
 *     [KB/s];Network transmitted throughput [KB/s]}. CPU (in 1 GHz reference cores), memory and I/O
 *     (disk plus network) all feed the load; a host's capacity is the VMs' provisioned CPU and
 *     memory, and their peak I/O, divided among {@code hosts}. Samples are placed by their timestamp
 *     (in seconds, although the header says ms) on a grid of {@link #BITBRAINS_INTERVAL_S} seconds from
 *     the set's earliest first timestamp, each at the nearest step: the files have gaps (in the rnd
 *     sample one of 30-31 hours in every file, at different moments, and a few of 10-55 minutes), and
 *     reading the rows one a step would shift the rest of the month by the gap, each VM by its own.
 *     A step without a sample repeats the last sample before it (the file's first, before that) and
 *     is marked {@link Workload#filled}; a run ends at the set's earliest last timestamp. Timestamps
 *     that go back are refused.</li>
 * </ul>
 * Files are read in name order. A malformed file gets a {@link TraceFormatException} naming the
 * file and line.
 */
public final class Traces
{
    /** Reference cores of a PlanetLab host: the trace's hosts carry about ten VMs. */
    public static final double PLANETLAB_HOST_CORES = 10;
    /** MHz of the 1 GHz reference core Bitbrains CPU usage is expressed in. */
    public static final double REFERENCE_CORE_MHZ = 1000;
    /** Seconds between two Bitbrains samples. */
    public static final int BITBRAINS_INTERVAL_S = 300;

    private static final String[] BITBRAINS_HEADER = {
        "Timestamp [ms]", "CPU cores", "CPU capacity provisioned [MHZ]", "CPU usage [MHZ]", "CPU usage [%]",
        "Memory capacity provisioned [KB]", "Memory usage [KB]", "Disk read throughput [KB/s]",
        "Disk write throughput [KB/s]", "Network received throughput [KB/s]", "Network transmitted throughput [KB/s]" };

    private Traces()
    {
    }

    /**
     * The cluster a trace runs on when none is given: ten VMs a host, rounded up (as the PlanetLab
     * studies size it).
     *
     * @param vms the trace's VMs.
     * @return hosts.
     */
    public static int defaultHosts(final int vms)
    {
        return (vms + 9) / 10;
    }

    /**
     * Read a PlanetLab directory.
     *
     * @param dir the directory.
     * @return the workload.
     * @throws TraceFormatException naming the file and line of the first problem.
     */
    public static Workload planetLab(final Path dir)
    {
        final List<Path> files = files(dir, null);
        final float[][] cpu = new float[files.size()][];
        final int[] lastLine = new int[files.size()];
        for (int v = 0; v < files.size(); v++)
        {
            final Path file = files.get(v);
            final List<String> lines = lines(file);
            final float[] series = new float[lines.size()];
            int count = 0;
            for (int i = 0; i < lines.size(); i++)
            {
                final String text = lines.get(i).trim();
                if (text.isEmpty())
                {
                    continue;
                }
                final int percent;
                try
                {
                    percent = Integer.parseInt(text);
                }
                catch (final NumberFormatException ex)
                {
                    throw new TraceFormatException(file, i + 1, "expected an integer CPU percentage, found '" +
                        abbreviate(text) + "'");
                }
                if (percent < 0 || percent > 100)
                {
                    throw new TraceFormatException(file, i + 1, "CPU percentage " + percent + " is outside 0-100");
                }
                series[count++] = percent / 100f;
                lastLine[v] = i + 1;
            }
            if (count == 0)
            {
                throw new TraceFormatException(file, 0, "no samples");
            }
            cpu[v] = java.util.Arrays.copyOf(series, count);
        }
        checkSameLength(files, cpu, lastLine);
        return new Workload("planetlab " + dir, cpu, null, null, LoadWeights.CPU_ONLY,
            new HostCapacity(PLANETLAB_HOST_CORES, 1, 1, 1));
    }

    /**
     * Read a Bitbrains directory.
     *
     * @param dir   the directory.
     * @param hosts the number of hosts the capacity is divided among; 0 for one host per ten VMs.
     * @return the workload.
     * @throws TraceFormatException naming the file and line of the first problem.
     */
    public static Workload bitbrains(final Path dir, final int hosts)
    {
        final List<Path> files = files(dir, ".csv");
        final float[][] cpu = new float[files.size()][];
        final float[][] io = new float[files.size()][];
        final float[][] memory = new float[files.size()][];
        final long[][] stamps = new long[files.size()][];
        double provisionedCpu = 0;
        double provisionedMemory = 0;
        double peakIo = 0;
        for (int v = 0; v < files.size(); v++)
        {
            final Path file = files.get(v);
            final List<String> lines = lines(file);
            if (lines.isEmpty())
            {
                throw new TraceFormatException(file, 0, "empty file: expected the Bitbrains header");
            }
            final String[] header = split(lines.get(0));
            if (header.length != BITBRAINS_HEADER.length)
            {
                throw new TraceFormatException(file, 1, "expected the Bitbrains header of " +
                    BITBRAINS_HEADER.length + " ';'-separated columns, found " + header.length);
            }
            for (int c = 0; c < header.length; c++)
            {
                if (!header[c].equalsIgnoreCase(BITBRAINS_HEADER[c]))
                {
                    throw new TraceFormatException(file, 1, "column " + (c + 1) + " is '" + abbreviate(header[c]) +
                        "', expected '" + BITBRAINS_HEADER[c] + "'");
                }
            }
            final float[] c = new float[lines.size()];
            final float[] o = new float[lines.size()];
            final float[] m = new float[lines.size()];
            final long[] ts = new long[lines.size()];
            int count = 0;
            double vmPeakIo = 0;
            double vmProvisionedCpu = 0;
            double vmProvisionedMemory = 0;
            for (int i = 1; i < lines.size(); i++)
            {
                if (lines.get(i).isBlank())
                {
                    continue;
                }
                final String[] fields = split(lines.get(i));
                if (fields.length != BITBRAINS_HEADER.length)
                {
                    throw new TraceFormatException(file, i + 1, "expected " + BITBRAINS_HEADER.length +
                        " ';'-separated fields, found " + fields.length);
                }
                final double[] values = new double[fields.length];
                for (int f = 0; f < fields.length; f++)
                {
                    try
                    {
                        values[f] = Double.parseDouble(fields[f]);
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new TraceFormatException(file, i + 1, "'" + BITBRAINS_HEADER[f] + "' is not a number: '" +
                            abbreviate(fields[f]) + "'");
                    }
                    if (!(values[f] >= 0) || Double.isInfinite(values[f]))
                    {
                        throw new TraceFormatException(file, i + 1, "'" + BITBRAINS_HEADER[f] + "' must be a finite " +
                            "number >= 0, found " + fields[f]);
                    }
                }
                ts[count] = (long)values[0];
                if (count > 0 && ts[count] < ts[count - 1])
                {
                    throw new TraceFormatException(file, i + 1, "the timestamp " + fields[0] + " is before the " +
                        "previous sample's, " + ts[count - 1]);
                }
                c[count] = (float)(values[3] / REFERENCE_CORE_MHZ);
                m[count] = (float)(values[6] * 1024);
                final double ioRate = (values[7] + values[8] + values[9] + values[10]) * 1024;
                o[count] = (float)ioRate;
                vmPeakIo = Math.max(vmPeakIo, ioRate);
                vmProvisionedCpu = Math.max(vmProvisionedCpu, values[2] / REFERENCE_CORE_MHZ);
                vmProvisionedMemory = Math.max(vmProvisionedMemory, values[5] * 1024);
                count++;
            }
            if (count == 0)
            {
                throw new TraceFormatException(file, 0, "no samples after the header");
            }
            cpu[v] = java.util.Arrays.copyOf(c, count);
            io[v] = java.util.Arrays.copyOf(o, count);
            memory[v] = java.util.Arrays.copyOf(m, count);
            stamps[v] = java.util.Arrays.copyOf(ts, count);
            provisionedCpu += vmProvisionedCpu;
            provisionedMemory += vmProvisionedMemory;
            peakIo += vmPeakIo;
        }
        final int hostCount = hosts > 0 ? hosts : defaultHosts(files.size());
        final HostCapacity capacity = new HostCapacity(
            Math.max(provisionedCpu / hostCount, 1e-3), 1, Math.max(peakIo / hostCount, 1), Math.max(provisionedMemory / hostCount, 1));
        final boolean[][] filled = new boolean[files.size()][];
        alignOnTimestamps(stamps, cpu, io, memory, filled);
        return new Workload("bitbrains " + dir, cpu, io, memory, LoadWeights.DEFAULT, capacity, filled);
    }

    /**
     * Each file's samples to the step of their timestamp on one grid from the set's earliest first
     * timestamp, up to the set's earliest last one; a step without a sample repeats the last before it
     * (the file's first, before that) and is marked filled; of two samples at one step the later wins.
     */
    private static void alignOnTimestamps(final long[][] stamps, final float[][] cpu, final float[][] io,
        final float[][] memory, final boolean[][] filled)
    {
        long origin = Long.MAX_VALUE;
        long end = Long.MAX_VALUE;
        for (final long[] ts : stamps)
        {
            origin = Math.min(origin, ts[0]);
            end = Math.min(end, ts[ts.length - 1]);
        }
        final int steps = (int)step(end, origin) + 1;
        for (int v = 0; v < stamps.length; v++)
        {
            final float[] c = new float[steps];
            final float[] o = new float[steps];
            final float[] m = new float[steps];
            final boolean[] f = new boolean[steps];
            java.util.Arrays.fill(f, true);
            for (int i = 0; i < stamps[v].length; i++)
            {
                final long t = step(stamps[v][i], origin);
                if (t < steps)
                {
                    c[(int)t] = cpu[v][i];
                    o[(int)t] = io[v][i];
                    m[(int)t] = memory[v][i];
                    f[(int)t] = false;
                }
            }
            int last = -1;
            for (int t = 0; t < steps; t++)
            {
                if (!f[t])
                {
                    last = t;
                }
                else
                {
                    c[t] = last >= 0 ? c[last] : cpu[v][0];
                    o[t] = last >= 0 ? o[last] : io[v][0];
                    m[t] = last >= 0 ? m[last] : memory[v][0];
                }
            }
            cpu[v] = c;
            io[v] = o;
            memory[v] = m;
            filled[v] = f;
        }
    }

    private static long step(final long timestamp, final long origin)
    {
        return Math.round((timestamp - origin) / (double)BITBRAINS_INTERVAL_S);
    }

    /**
     * Every PlanetLab file covers the same period: the length most files have is the expected one
     * (the longer if two lengths tie), and the first file in name order with another is refused.
     */
    private static void checkSameLength(final List<Path> files, final float[][] cpu, final int[] lastLine)
    {
        final java.util.Map<Integer, Integer> filesByLength = new java.util.TreeMap<>();
        for (final float[] series : cpu)
        {
            filesByLength.merge(series.length, 1, Integer::sum);
        }
        if (filesByLength.size() == 1)
        {
            return;
        }
        int expected = 0;
        int most = 0;
        for (final java.util.Map.Entry<Integer, Integer> e : filesByLength.entrySet()) // ascending: a tie goes to the longer
        {
            if (e.getValue() >= most)
            {
                most = e.getValue();
                expected = e.getKey();
            }
        }
        for (int v = 0; v < cpu.length; v++)
        {
            final int length = cpu[v].length;
            if (length < expected)
            {
                throw new TraceFormatException(files.get(v), lastLine[v] + 1, "the file ends after " + length +
                    " samples; expected " + expected + ", as " + most + " of the " + files.size() +
                    " files have");
            }
            if (length > expected)
            {
                throw new TraceFormatException(files.get(v), lineOfSample(files.get(v), expected + 1), "sample " +
                    (expected + 1) + " is past the " + expected + " that " + most + " of the " + files.size() +
                    " files have");
            }
        }
    }

    /** @return the 1-based line of a PlanetLab file's n-th sample (blank lines are not samples). */
    private static int lineOfSample(final Path file, final int n)
    {
        final List<String> lines = lines(file);
        int count = 0;
        for (int i = 0; i < lines.size(); i++)
        {
            if (!lines.get(i).trim().isEmpty() && ++count == n)
            {
                return i + 1;
            }
        }
        return 0;
    }

    private static String[] split(final String line)
    {
        final String[] fields = line.split(";", -1);
        for (int i = 0; i < fields.length; i++)
        {
            fields[i] = fields[i].strip();
        }
        return fields;
    }

    /** What a message quotes of a line: 40 characters, control characters as '?' (a binary file's would garble the terminal). */
    private static String abbreviate(final String text)
    {
        final String shown = text.length() > 40 ? text.substring(0, 40) + "…" : text;
        return shown.replaceAll("[\\p{Cntrl}]", "?");
    }

    private static List<String> lines(final Path file)
    {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            final List<String> lines = new ArrayList<>();
            String line;
            while ((line = reader.readLine()) != null)
            {
                lines.add(line);
            }
            return lines;
        }
        catch (final java.nio.charset.MalformedInputException ex)
        {
            throw new TraceFormatException(file, 0, "not a text file (invalid UTF-8)");
        }
        catch (final IOException ex)
        {
            throw new TraceFormatException(file, 0, "cannot read: " + ex.getMessage());
        }
    }

    private static List<Path> files(final Path dir, final String suffix)
    {
        if (!Files.isDirectory(dir))
        {
            throw new TraceFormatException(dir, 0, "not a directory of trace files");
        }
        final List<Path> files = new ArrayList<>();
        try (Stream<Path> stream = Files.list(dir))
        {
            stream.filter(Files::isRegularFile)
                .filter(p -> !p.getFileName().toString().startsWith("."))
                .filter(p -> suffix == null || p.getFileName().toString().endsWith(suffix))
                .sorted()
                .forEach(files::add);
        }
        catch (final IOException ex)
        {
            throw new TraceFormatException(dir, 0, "cannot list: " + ex.getMessage());
        }
        if (files.isEmpty())
        {
            throw new TraceFormatException(dir, 0, "no trace files" + (suffix == null ? "" : " (*" + suffix + ")"));
        }
        return files;
    }
}
