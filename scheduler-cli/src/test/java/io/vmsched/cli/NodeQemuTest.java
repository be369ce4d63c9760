package io.vmsched.cli;

import io.vmsched.qemu.QemuProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
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
 * {@code vmsched node --qemu NAME=SOCKET[@PID]} against a real QEMU VM (skipped, with the reason, where
 * {@code qemu-system-x86_64} is missing): adopted through its QMP socket, its process found in /proc, sampled and
 * shown by {@code vmsched stat} as an external VM, left running when the node stops; each mistake refused in one
 * line (the driver's reason), nothing written.
 */
@Timeout(120)
class NodeQemuTest extends CommandTest
{
    @TempDir
    Path dir;

    private Process qemu;
    private Process node;

    @AfterEach
    void stopEverything() throws Exception
    {
        if (node != null)
        {
            node.destroyForcibly();
            node.waitFor(10, TimeUnit.SECONDS);
        }
        if (qemu != null)
        {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
        QemuProcesses.killUnder(dir);
    }

    /** A tiny VM with a QMP socket (vm.qmp) and a human monitor (vm.hmp), which does not speak QMP. */
    private void startQemu() throws Exception
    {
        final Path binary = QemuProcesses.binary();
        Assumptions.assumeTrue(binary != null, QemuProcesses.missing());
        final Path qmp = dir.resolve("vm.qmp");
        qemu = new ProcessBuilder(binary.toString(), "-M", "q35", "-m", "64", "-nodefaults", "-nographic", "-display",
            "none", "-qmp", "unix:" + qmp + ",server=on,wait=off", "-monitor", "unix:" + dir.resolve("vm.hmp") +
            ",server=on,wait=off").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true).redirectOutput(dir.resolve("vm.log").toFile()).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(qmp) || !Files.exists(dir.resolve("vm.hmp")))
        {
            assertTrue(qemu.isAlive(), () -> "QEMU exited: " + read(dir.resolve("vm.log")));
            assertTrue(System.nanoTime() - deadline < 0, "QEMU's sockets not there in 30 s");
            LockSupport.parkNanos(10_000_000L);
        }
        LockSupport.parkNanos(200_000_000L); // bound a moment before listening: the driver's greeting wait covers it
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file);
        }
        catch (final java.io.IOException ex)
        {
            return "(" + ex.getMessage() + ")";
        }
    }

    @Test
    void aQemuVmIsAdoptedByItsSocketShownByStatAndLeftRunningWhenTheNodeStops() throws Exception
    {
        startQemu();
        final Path data = dir.resolve("node");
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        try (InputStream in = NodeQemuTest.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
        {
            command.addAll(Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            VmschedCommand.class.getName(), "node", "--data", data.toString(), "--qemu", "web=" + dir.resolve("vm.qmp"),
            "--period-ms", "200"));
        node = new ProcessBuilder(command).redirectErrorStream(true).start();
        final BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        final String first = lines.readLine();
        assertNotNull(first, "the node printed nothing");
        assertTrue(first.startsWith("vmsched node: pid " + node.pid() + ", 1 VMs (0 recovered from the journal), " +
            "1 external (1 QEMU); "), first);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String text;
        do
        {
            assertEquals(0, run("stat", "--data", data.toString(), "--once"), err.toString());
            text = out.toString();
            assertTrue(System.nanoTime() - deadline < 0, "not sampled: " + text);
            LockSupport.parkNanos(50_000_000L);
        }
        while (!text.contains("external vm 2000000 web (host 0): alive, cpu "));
        assertTrue(text.contains("resident "), text);

        node.toHandle().destroy(); // SIGTERM
        assertTrue(node.waitFor(30, TimeUnit.SECONDS), "the node stopped");
        final StringBuilder rest = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null)
        {
            rest.append(line).append('\n');
        }
        assertTrue(rest.toString().contains("vmsched node: stopped cleanly"), rest.toString());
        assertTrue(qemu.isAlive(), "the VM is not the node's to stop");
        // the driver let go of its QMP connection: the socket takes another client
        try (java.nio.channels.SocketChannel channel = java.nio.channels.SocketChannel.open(
            java.net.UnixDomainSocketAddress.of(dir.resolve("vm.qmp"))))
        {
            final java.nio.ByteBuffer greeting = java.nio.ByteBuffer.allocate(512);
            channel.read(greeting);
            assertTrue(new String(greeting.array(), 0, greeting.position(), StandardCharsets.UTF_8).contains("\"QMP\""));
        }
    }

    @Test
    void eachMistakeIsOneLineWithTheDriversReasonAndNothingIsWritten() throws Exception
    {
        startQemu();
        final Path data = dir.resolve("node");
        final String qmp = dir.resolve("vm.qmp").toString();
        refused("vmsched node: --qemu 'web=" + dir.resolve("vm.hmp") + "': vm web: " + dir.resolve("vm.hmp") +
            " does not speak QMP", "--qemu", "web=" + dir.resolve("vm.hmp"));
        final long self = ProcessHandle.current().pid();
        refused("vmsched node: --qemu 'web=" + qmp + "@" + self + "': vm web: process " + self + " is not QEMU",
            "--qemu", "web=" + qmp + "@" + self);
        refused("vmsched node: --qemu 'b=" + qmp + "': vm b: process " + qemu.pid() + " at " + qmp +
            " is adopted by this driver already, as vm a", "--qemu", "a=" + qmp, "--qemu", "b=" + qmp);
        refused("vmsched node: --qemu 'web=" + dir.resolve("none.qmp") + "': no socket at " + dir.resolve("none.qmp"),
            "--qemu", "web=" + dir.resolve("none.qmp"));
        refused("vmsched node: --qemu 'web=" + dir.resolve("vm.log") + "': no QEMU process serves a monitor at " +
            dir.resolve("vm.log"), "--qemu", "web=" + dir.resolve("vm.log"));
        refused("vmsched node: --qemu 'web': expected NAME=SOCKET or NAME=SOCKET@PID", "--qemu", "web");
        refused("vmsched node: --qemu 'a b=" + qmp + "': a name is 1-64 letters", "--qemu", "a b=" + qmp);
        refused("vmsched node: --qemu-load needs --registry", "--qemu", "web=" + qmp, "--qemu-load", "0.3");
        assertFalse(Files.exists(data), "nothing written");
        assertTrue(qemu.isAlive());
    }

    private void refused(final String expected, final String... flags)
    {
        final List<String> args = new ArrayList<>(List.of("node", "--data", dir.resolve("node").toString()));
        args.addAll(List.of(flags));
        assertEquals(2, run(args.toArray(new String[0])), String.join(" ", args) + " -> " + err);
        final String text = err.toString();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith(expected), "'" + expected + "' starts: " + text);
    }
}
