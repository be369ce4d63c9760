package io.vmsched.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code vmsched} processes a command starts on this machine (the registry members and nodes of
 * {@code cluster-demo}, a test's cluster): each a JVM with this one's class path and the JVM flags the
 * libraries need, its output to a log file; {@link #close} stops every one (SIGTERM, then SIGKILL after
 * a grace period), so none outlives the command.
 * <p>
 * Threadsafe.
 */
final class Children implements AutoCloseable
{
    private final List<Process> processes = new ArrayList<>();
    private final long graceMs;

    /** @param graceMs how long a child may take to stop after SIGTERM before it is killed. */
    Children(final long graceMs)
    {
        this.graceMs = graceMs;
    }

    /**
     * Start {@code vmsched ARGS…} as a child process.
     *
     * @param log  where its standard output and error go.
     * @param args the command line after {@code vmsched}.
     * @return the process.
     * @throws IllegalStateException if it cannot be started.
     */
    synchronized Process start(final Path log, final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add("-Xmx192m");
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(VmschedCommand.class.getName());
        command.addAll(Arrays.asList(args));
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            processes.add(process);
            return process;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start vmsched " + String.join(" ", args) + ": " + ex.getMessage(), ex);
        }
    }

    private static List<String> jvmFlags()
    {
        try (InputStream in = Children.class.getResourceAsStream("/META-INF/vmsched/jvm.options"))
        {
            if (in == null)
            {
                throw new IllegalStateException("jvm.options is not on the class path");
            }
            return Arrays.asList(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+"));
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read jvm.options: " + ex.getMessage(), ex);
        }
    }

    /**
     * Stop one child: SIGTERM, then SIGKILL if it has not exited within the grace period.
     *
     * @param process the child.
     * @return its exit status.
     */
    int stop(final Process process)
    {
        process.destroy();
        try
        {
            if (!process.waitFor(graceMs, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                process.waitFor(graceMs, TimeUnit.MILLISECONDS);
            }
            return process.isAlive() ? -1 : process.exitValue();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }

    /** Stop every child still running, the last started first. */
    @Override
    public synchronized void close()
    {
        for (int i = processes.size() - 1; i >= 0; i--)
        {
            if (processes.get(i).isAlive())
            {
                stop(processes.get(i));
            }
        }
        processes.clear();
    }

    /**
     * @param count how many consecutive UDP ports are needed.
     * @return the first of {@code count} consecutive UDP ports free on the loopback address now.
     */
    static int freeUdpPorts(final int count)
    {
        return io.vmsched.aeron.LoopbackPorts.freeUdpPorts(count);
    }
}
