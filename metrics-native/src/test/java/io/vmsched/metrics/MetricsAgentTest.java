package io.vmsched.metrics;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

class MetricsAgentTest
{
    static Map<String, Long> read(final Path data, final int host)
    {
        final Map<String, Long> values = new HashMap<>();
        try (CountersFileReader reader = CountersFileReader.open(data))
        {
            reader.forEach((h, type, label, value) ->
            {
                if (h == host)
                {
                    values.put(label, value);
                }
            });
        }
        return values;
    }

    static void await(final String what, final java.util.function.BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void anExternalProcessFeedsItsHostsLoadAndItsDeathIsReportedOnce(@TempDir final Path dir) throws Exception
    {
        final List<String> log = new CopyOnWriteArrayList<>();
        final ClusterConfig config = ClusterConfig.of(2, dir);
        config.host.balancing = false;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.smoothingWindow = 1;
        final Process child = SamplerTest.child(dir.resolve("out.bin"));
        try (Cluster cluster = Cluster.start(config);
            CountersFile counters = CountersFile.create(dir, 128, 1000))
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            final Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
            assertEquals("READY", out.readLine());
            cluster.admitExternal(1, 77, "child", child.pid());
            await("admission", () -> cluster.host(1).vmCount() == 1);
            final MetricsAgent agent = new MetricsAgent(cluster, counters, 1000,
                List.of(new MetricsAgent.Binding(77, "child", child.pid())), log::add);
            agent.sampleOnce();
            in.write("GO\n");
            in.flush();
            assertTrue(out.readLine().startsWith("DONE")); // 800 ms of CPU burned since the first sample
            agent.sampleOnce();

            final Map<String, Long> vm = read(dir, 1);
            assertEquals(1, vm.get("vm:77:child:alive"));
            assertTrue(vm.get("vm:77:child:cpu") > 50_000, "the child's CPU share shows: " + vm); // 0.8 s over the time the work took
            assertTrue(vm.get("vm:77:child:resident") > 96L << 20, vm.toString());
            assertTrue(vm.get("vm:77:child:write") > 0, vm.toString());
            assertEquals(1, vm.get("vms"));
            await("host 1's load to carry the child's CPU", () -> cluster.load(1) > 0.04);
            final Map<String, Long> machine = read(dir, -1);
            assertTrue(machine.get("memoryTotal") > 0 && machine.get("processors") > 0, machine.toString());

            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            agent.sampleOnce();
            agent.sampleOnce();
            assertEquals(1, log.size(), log.toString());
            assertEquals("vm 77 (child, pid " + child.pid() + "): the process is gone; the VM is removed from the cluster",
                log.get(0));
            await("the gone VM removed", () -> cluster.placement().isEmpty() && cluster.host(1).vmCount() == 0);
            assertEquals(0, read(dir, 1).get("vm:77:child:alive"));
            try (CountersFileReader reader = CountersFileReader.open(dir))
            {
                assertNull(reader.staleness(System.currentTimeMillis()), "live while its writer runs");
            }
        }
        finally
        {
            child.destroyForcibly();
        }
        try (CountersFileReader reader = CountersFileReader.open(dir))
        {
            assertTrue(reader.staleness(System.currentTimeMillis()).contains("closed"), "closed when its writer stopped");
        }
    }

    @Test
    void hostsAddedToARunningClusterAreReportedWhileTheFileHasRoom(@TempDir final Path dir) throws Exception
    {
        final List<String> log = new CopyOnWriteArrayList<>();
        final ClusterConfig config = ClusterConfig.of(1, dir);
        config.maxHosts = 3;
        config.host.balancing = false;
        // room for the machine's 9 counters and two hosts' 8 each, not a third host's
        try (Cluster cluster = Cluster.start(config);
            CountersFile counters = CountersFile.create(dir, 9 + 2 * 8, 1000))
        {
            final MetricsAgent agent = new MetricsAgent(cluster, counters, 1000, List.of(), log::add);
            agent.sampleOnce();
            assertNull(read(dir, 1).get("vms"), "no host 1 yet");
            cluster.addHost();
            agent.sampleOnce();
            assertEquals(0, read(dir, 1).get("vms"), "host 1 reported once added");
            cluster.addHost();
            agent.sampleOnce();
            agent.sampleOnce();
            assertNull(read(dir, 2).get("vms"), "no room for host 2");
            assertEquals(1, log.size(), log.toString());
            assertTrue(log.get(0).startsWith("counters file ") && log.get(0).contains("is full: hosts 2-2 are not reported"),
                log.get(0));
        }
    }

    @Test
    void aMissingOrForeignFileGetsOneClearLine(@TempDir final Path dir) throws Exception
    {
        assertEquals("no counters file at " + dir.resolve("counters.dat") + ": is a vmsched node running with --data " +
            dir + "?", assertThrows(IllegalArgumentException.class, () -> CountersFileReader.open(dir)).getMessage());
        final byte[] garbage = new byte[4096];
        java.util.Arrays.fill(garbage, (byte)0x41);
        java.nio.file.Files.write(dir.resolve("counters.dat"), garbage);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CountersFileReader.open(dir)).getMessage()
            .contains("is not a vmsched counters file"));

        // a schedule file copied in by mistake: same family of headers, not a counters file
        final java.nio.ByteBuffer schedule = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        schedule.putInt(io.vmsched.schedule.ScheduleDescriptor.MAGIC_OFFSET, io.vmsched.schedule.ScheduleDescriptor.MAGIC);
        schedule.putInt(io.vmsched.schedule.ScheduleDescriptor.VERSION_OFFSET, io.vmsched.schedule.ScheduleDescriptor.LAYOUT_VERSION);
        java.nio.file.Files.write(dir.resolve("counters.dat"), schedule.array());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CountersFileReader.open(dir)).getMessage()
            .contains("is not a vmsched counters file"));
    }
}
