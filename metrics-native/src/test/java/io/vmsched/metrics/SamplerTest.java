package io.vmsched.metrics;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The samplers against a real child process whose work is known: it burns 800 ms of CPU, writes
 * 32 MiB (synced) and holds 96 MiB of touched memory. Tolerances: CPU within [0.95, 1.5] x the burn
 * plus 0.4 s (the child's JIT and GC threads run too); bytes written within 32 MiB + 4 MiB; resident
 * memory grown by 96 MiB within -20 % / +48 MiB.
 */
class SamplerTest
{
    private static final long BURN_MS = 800;
    private static final int WRITE = 32 << 20;
    private static final int HOLD = 96 << 20;

    private static ProcessSampler processes;

    @BeforeAll
    static void oshi()
    {
        processes = new ProcessSampler();
    }

    static Process child(final Path file) throws Exception
    {
        return new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m", "-XX:MaxDirectMemorySize=256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            ChildWorkload.class.getName(), file.toString(), Long.toString(BURN_MS), Integer.toString(WRITE),
            Integer.toString(HOLD))).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void aChildsCpuBytesWrittenAndMemoryAreMeasuredWithinTolerance(@TempDir final Path dir) throws Exception
    {
        final Process child = child(dir.resolve("out.bin"));
        try
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            final Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
            assertEquals("READY", out.readLine());
            final int pid = (int)child.pid();
            final ProcessSample before = new ProcessSample();
            assertTrue(processes.sample(pid, before), "alive: " + before);
            in.write("GO\n");
            in.flush();
            assertTrue(out.readLine().startsWith("DONE"));
            final ProcessSample after = new ProcessSample();
            assertTrue(processes.sample(pid, after), "alive: " + after);

            final double cpuSeconds = (after.cpuNanos - before.cpuNanos) / 1e9;
            final long written = after.bytesWritten - before.bytesWritten;
            final long resident = after.residentBytes - before.residentBytes;
            System.out.printf("child did %d ms CPU, %d MiB written, %d MiB held; measured %.3f s CPU, %.1f MiB written, " +
                "%.1f MiB more resident%n", BURN_MS, WRITE >> 20, HOLD >> 20, cpuSeconds, written / 1048576.0,
                resident / 1048576.0);
            assertTrue(cpuSeconds >= 0.95 * BURN_MS / 1e3 && cpuSeconds <= 1.5 * BURN_MS / 1e3 + 0.4, "cpu " + cpuSeconds);
            assertTrue(written >= WRITE && written <= WRITE + (4 << 20), "written " + written);
            assertTrue(resident >= 0.8 * HOLD && resident <= HOLD + (48 << 20), "resident " + resident);
        }
        finally
        {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aKilledChildReadsAsGoneAndNothingThrows(@TempDir final Path dir) throws Exception
    {
        final Process child = child(dir.resolve("out.bin"));
        final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("READY", out.readLine());
        final int pid = (int)child.pid();
        final ProcessSample sample = new ProcessSample();
        assertTrue(processes.sample(pid, sample));
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertFalse(processes.sample(pid, sample), "gone: " + sample);
        assertFalse(sample.alive);
        assertFalse(processes.sample(pid, sample), "still gone, and no exception");
        assertFalse(processes.sample(Integer.MAX_VALUE - 1, sample), "a pid that never was");
    }

    @Test
    void theHostSampleIsPlausible()
    {
        final HostSampler sampler = new HostSampler();
        final HostSample sample = sampler.sample(new HostSample());
        assertTrue(sample.cpuUtilisation >= 0 && sample.cpuUtilisation <= 1, sample.toString());
        assertEquals(Runtime.getRuntime().availableProcessors(), sample.processors, sample.toString());
        assertTrue(sample.memoryTotalBytes > 0 && sample.memoryUsedBytes > 0 &&
            sample.memoryUsedBytes <= sample.memoryTotalBytes, sample.toString());
        assertTrue(sample.diskReadBytesPerSecond >= 0 && sample.diskWriteBytesPerSecond >= 0 &&
            sample.networkInBytesPerSecond >= 0 && sample.networkOutBytesPerSecond >= 0, sample.toString());
        final long end = System.nanoTime() + 1_500_000_000L; // longer than OSHI memoizes its tick counters
        long x = 0;
        while (System.nanoTime() < end)
        {
            x += System.nanoTime() & 1; // keep one CPU busy
        }
        final HostSample busy = sampler.sample(new HostSample());
        assertTrue(busy.cpuUtilisation >= 0.3 / sample.processors, "a busy core shows: " + busy + " " + x);
        System.out.println("host sample: " + busy);
    }
}
