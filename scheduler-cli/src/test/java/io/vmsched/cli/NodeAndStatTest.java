package io.vmsched.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real node in its own JVM, read by {@code vmsched stat} from this one; then SIGTERM and a clean stop.
 */
class NodeAndStatTest extends CommandTest
{
    private static List<String> java() throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        try (InputStream in = NodeAndStatTest.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
        {
            command.addAll(Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+")));
        }
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        return command;
    }

    @Test
    void statInAnotherJvmReadsARunningNodeWhichStopsCleanlyOnSigterm(@TempDir final Path dir) throws Exception
    {
        final Process external = new ProcessBuilder("sleep", "120").start();
        final List<String> command = java();
        command.addAll(List.of(VmschedCommand.class.getName(), "node", "--data", dir.toString(), "--guests", "2",
            "--vm-pid", "sleeper=" + external.pid(), "--period-ms", "200"));
        final Process node = new ProcessBuilder(command).redirectErrorStream(true).start();
        final BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        try
        {
            final String first = lines.readLine();
            assertNotNull(first, "the node printed nothing");
            assertTrue(first.startsWith("vmsched node: pid " + node.pid() + ", 3 VMs"), first);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String json;
            do
            {
                assertEquals(0, run("stat", "--data", dir.toString(), "--json"), err.toString());
                json = out.toString().trim();
                assertTrue(System.nanoTime() - deadline < 0, "no live figures: " + json);
                LockSupport.parkNanos(50_000_000);
            }
            while (!json.contains("\"slices\":") || json.contains("\"slices\":0,") || !json.contains("\"alive\":1"));
            assertTrue(json.startsWith("{\"pid\":" + node.pid() + ","), json);
            assertTrue(json.contains("\"stale\":null"), json);
            assertTrue(json.contains("\"vms\":3"), json);
            assertTrue(json.contains("\"name\":\"sleeper\"") && json.contains("\"alive\":1"), json);
            assertTrue(json.contains("\"memoryTotal\":"), json);
            assertEquals(1, json.lines().count(), "one JSON object on one line");

            assertEquals(0, run("stat", "--data", dir.toString(), "--once"), err.toString());
            assertTrue(out.toString().contains("external vm 1000000 sleeper (host 0): alive"), out.toString());
        }
        finally
        {
            node.toHandle().destroy(); // SIGTERM (Process.destroy would close our end of its output)
            assertTrue(node.waitFor(30, TimeUnit.SECONDS), "the node stopped");
            external.destroyForcibly();
        }
        final StringBuilder rest = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null)
        {
            rest.append(line).append('\n');
        }
        assertTrue(rest.toString().contains("vmsched node: stopped cleanly (agents stopped, journal and counters file closed)"),
            rest.toString());
        assertEquals(0, run("stat", "--data", dir.toString(), "--once"));
        assertTrue(out.toString().contains("stale: the node (pid " + node.pid() + ") closed"), out.toString());
        assertTrue(Files.isDirectory(dir.resolve("journal").resolve("0")));
    }

    @Test
    void badInputGetsOneLine(@TempDir final Path dir)
    {
        assertEquals(2, run("node", "--data", dir.toString(), "--vm-pid", "qemu"));
        assertEquals("vmsched node: --vm-pid 'qemu': expected NAME=PID", err.toString().trim());
        assertEquals(2, run("node", "--data", dir.toString(), "--vm-pid", "qemu=abc"));
        assertEquals("vmsched node: --vm-pid 'qemu=abc': expected NAME=PID with a numeric PID", err.toString().trim());
        assertEquals(2, run("stat", "--data", dir.resolve("none").toString(), "--once"));
        assertEquals("vmsched stat: no counters file at " + dir.resolve("none").resolve("counters.dat") +
            ": is a vmsched node running with --data " + dir.resolve("none") + "?", err.toString().trim());
    }
}
