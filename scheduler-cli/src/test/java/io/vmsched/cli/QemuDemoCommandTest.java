package io.vmsched.cli;

import io.vmsched.qemu.QemuProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code vmsched qemu-demo} against real QEMU (skipped, with the reason, where {@code qemu-system-x86_64} is
 * missing): the VMs spread by live migration, and no QEMU process of the run is left after it, whether it ends by
 * itself or by SIGTERM mid-run. Bad input is refused in one line without QEMU.
 */
@Timeout(240)
class QemuDemoCommandTest extends CommandTest
{
    /** A committed live migration's line: vm, from, to, QEMU's figures, vmsched's overhead. */
    private static final Pattern LIVE_MIGRATION = Pattern.compile(
        " {7}vm\\d+ host \\d -> host \\d: QEMU total \\d+ ms, downtime \\d+ ms, [0-9.]+ MiB sent; vmsched overhead -?\\d+ ms .*");

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) // a failed run keeps the nodes' logs
    Path dir;

    private Process cli;

    @AfterEach
    void stopEverything()
    {
        if (cli != null)
        {
            cli.destroyForcibly();
        }
        QemuProcesses.killUnder(dir); // whatever a failed test left
    }

    private static void qemu()
    {
        Assumptions.assumeTrue(QemuProcesses.binary() != null, QemuProcesses.missing());
    }

    private List<ProcessHandle> qemusOfTheRun()
    {
        return QemuProcesses.under(dir);
    }

    @Test
    void theVmsSpreadByLiveMigrationAndNoQemuIsLeftAfterTheRun() throws Exception
    {
        qemu();
        final Path data = dir.resolve("data");
        assertEquals(0, run("qemu-demo", "--duration", "8", "--data", data.toString()), err.toString());
        final String text = out.toString();
        assertTrue(text.lines().anyMatch(l -> LIVE_MIGRATION.matcher(l).matches()), text);
        assertTrue(text.contains("t= 8s  loads(vms) "), text);
        assertTrue(text.contains("\nSummary: "), text);
        final Path run = UserMistakesTest.onlyRun(data, "qemu-");
        assertTrue(text.contains("none of " + run.toAbsolutePath() + " is left"), text);
        assertEquals(List.of(), qemusOfTheRun());
        assertTrue(Files.isDirectory(run.resolve("journal").resolve("0")));
        assertFalse(err.toString().contains("Exception"), err.toString());
    }

    /** A node's line for a committed live migration, as the demo relays it. */
    private static final Pattern NODE_LIVE_MIGRATION = Pattern.compile(
        " {7}node-\\d: vm \\d+ live-migrated to host \\d \\(QEMU's total \\d+ ms, downtime \\d+ ms, \\d+ bytes\\)");

    /**
     * With {@code --nodes 2}: the VMs move between node processes; the run goes on until a first live migration is
     * printed (however long a busy machine makes it wait), then SIGTERM stops the nodes and every QEMU of the run,
     * and the nodes' journals verify together.
     */
    @Test
    void onNodeProcessesTheVmsSpreadByLiveMigrationAndNothingIsLeft() throws Exception
    {
        qemu();
        final Path data = dir.resolve("data");
        cli = demo("--nodes", "2", "--duration", "600", "--data", data.toString());
        final BufferedReader lines = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8));
        final StringBuilder before = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null)
        {
            before.append(line).append('\n');
            if (NODE_LIVE_MIGRATION.matcher(line).matches())
            {
                break;
            }
        }
        assertNotNull(line, "no live migration printed before the end: " + before);
        cli.toHandle().destroy(); // SIGTERM
        assertTrue(cli.waitFor(90, TimeUnit.SECONDS), "the demo stopped: " + before);
        final StringBuilder after = new StringBuilder();
        while ((line = lines.readLine()) != null)
        {
            after.append(line).append('\n');
        }
        final String text = before + "" + after;
        assertEquals(143, cli.exitValue(), text);
        assertTrue(text.contains("Interrupted at t="), text);
        final java.util.regex.Matcher summary = Pattern.compile("Summary: (\\d+) live migrations? between node processes")
            .matcher(text);
        assertTrue(summary.find() && Integer.parseInt(summary.group(1)) >= 1, text);
        final Path run = UserMistakesTest.onlyRun(data, "qemu-");
        assertTrue(text.contains("none of " + run.toAbsolutePath() + " is left"), text);
        assertEquals(List.of(), qemusOfTheRun(), text);
        // the nodes' journals, read together: nothing lost or doubled (a live migration the stop cut short stays in
        // doubt, for the node's next start's recovery: the demo's nodes do not start again)
        final java.io.StringWriter verify = new java.io.StringWriter();
        VmschedCommand.execute(new java.io.PrintWriter(verify), new java.io.PrintWriter(verify),
            "journal", "verify", run.resolve("node-0").toString(), run.resolve("node-1").toString());
        assertTrue(verify.toString().contains(" 0 lost, 0 duplicated, "), verify.toString());
    }

    /** @return {@code vmsched ARGS} in a JVM of its own (a signal to it is not the test's), its output one stream. */
    private static Process demo(final String... args) throws java.io.IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        try (InputStream in = QemuDemoCommandTest.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
        {
            command.addAll(Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            VmschedCommand.class.getName(), "qemu-demo"));
        command.addAll(Arrays.asList(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    @Test
    void sigtermMidRunStopsEveryQemuOfTheRun() throws Exception
    {
        qemu();
        cli = demo("--duration", "120", "--vms", "4", "--data", dir.resolve("data").toString());
        final BufferedReader lines = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8));
        final StringBuilder before = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null)
        {
            before.append(line).append('\n');
            if (LIVE_MIGRATION.matcher(line).matches())
            {
                break;
            }
        }
        assertNotNull(line, "no live migration printed before the end: " + before);
        assertFalse(qemusOfTheRun().isEmpty(), "the VMs run");
        cli.toHandle().destroy(); // SIGTERM (Process.destroy would close our end of its output)
        assertTrue(cli.waitFor(60, TimeUnit.SECONDS), "the demo stopped: " + before);
        final StringBuilder after = new StringBuilder();
        while ((line = lines.readLine()) != null)
        {
            after.append(line).append('\n');
        }
        assertEquals(143, cli.exitValue(), before + "" + after);
        assertTrue(after.toString().contains("Interrupted at t="), after.toString());
        assertTrue(after.toString().contains(" is left\n") && !after.toString().contains("STILL RUNNING"), after.toString());
        assertEquals(List.of(), qemusOfTheRun(), before + "" + after);
    }

    @Test
    void badInputIsOneLineAndChangesNothing() throws Exception
    {
        final Path data = dir.resolve("data");
        final Path file = dir.resolve("a-file");
        Files.writeString(file, "not a directory");
        refused("vmsched qemu-demo: --vms must be in [1, 32], got 0", "qemu-demo", "--vms", "0", "--data", data.toString());
        refused("vmsched qemu-demo: --hosts must be in [2, 8], got 1", "qemu-demo", "--hosts", "1", "--data", data.toString());
        refused("vmsched qemu-demo: --nodes must be in [2, 8], got 1", "qemu-demo", "--nodes", "1", "--data", data.toString());
        refused("vmsched qemu-demo: --memory-mib must be in [32, 4096], got 8", "qemu-demo", "--memory-mib", "8",
            "--data", data.toString());
        refused("vmsched qemu-demo: --duration must be at least 1 second, got 0", "qemu-demo", "--duration", "0",
            "--data", data.toString());
        refused("vmsched qemu-demo: --data " + file + " is a file, not a directory", "qemu-demo", "--data", file.toString());
        refused("vmsched qemu-demo: --qemu-binary " + dir.resolve("none") + " is not an executable file", "qemu-demo",
            "--qemu-binary", dir.resolve("none").toString(), "--data", data.toString());
        final Path deep = dir.resolve("d".repeat(90));
        refused("vmsched qemu-demo: --data " + deep + ": the QMP sockets under it would have paths of ", "qemu-demo",
            "--data", deep.toString());
        assertFalse(Files.exists(data), "nothing made on disk");
        assertFalse(Files.exists(deep), "nothing made on disk");
        assertEquals("not a directory", Files.readString(file));
    }

    private void refused(final String expected, final String... args)
    {
        assertEquals(2, run(args), String.join(" ", args) + " -> " + err);
        final String text = err.toString();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith(expected), "'" + expected + "' starts: " + text);
    }
}
