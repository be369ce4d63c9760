package io.vmsched.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What the multi-process harnesses ({@link BalanceTraffic}, {@link NodeHandoffLatency}) share: a JVM
 * started with the libraries' flags (optionally under a Linux timer slack), stopped with SIGTERM and then
 * SIGKILL, free UDP ports on the loopback address, the load average. Every process started here is also
 * killed by a shutdown hook if the harness exits first (an exception, Ctrl-C), so none outlives it.
 * <p>
 * Threadsafe.
 */
final class NodeProcesses
{
    static final String LOOPBACK = "127.0.0.1";

    private static final Set<Process> STARTED = ConcurrentHashMap.newKeySet();

    static
    {
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            for (final Process p : STARTED)
            {
                p.destroyForcibly();
            }
        }, "vmsched-bench-children"));
    }

    private NodeProcesses()
    {
    }

    /**
     * The command that runs a JVM with the libraries' flags (the root pom's, from the jar's resource).
     *
     * @param timerSlackUs the Linux timer slack of the process and of every thread it starts, µs (0: the OS
     *                     default, 50 µs): a shell sets its own, then execs the JVM, whose threads inherit it.
     * @param jvm          more JVM options (heap, GC…).
     * @return the command up to the JVM options: add the class path and main class, or {@code -jar}.
     * @throws IOException if the flags' resource cannot be read.
     */
    static List<String> javaCommand(final long timerSlackUs, final List<String> jvm) throws IOException
    {
        final List<String> command = new ArrayList<>();
        if (timerSlackUs > 0)
        {
            command.addAll(List.of("/bin/sh", "-c", "echo " + timerSlackUs * 1000 + " > /proc/self/timerslack_ns && exec \"$0\" \"$@\""));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(BenchmarkMain.jvmFlags().split("\\s+")));
        if (timerSlackUs > 0)
        {
            command.add("-D" + io.vmsched.dispatch.Idle.TIMER_SLACK_PROPERTY + "=0"); // the message path keeps it too
        }
        command.addAll(jvm);
        return command;
    }

    /**
     * @param timerSlackUs as {@link #javaCommand}.
     * @param jvm          more JVM options.
     * @param main         the main class, run from this JVM's class path.
     * @param args         its arguments.
     * @return a builder for the process (set its redirections, then {@link #start(ProcessBuilder)}).
     * @throws IOException if the flags' resource cannot be read.
     */
    static ProcessBuilder builder(final long timerSlackUs, final List<String> jvm, final Class<?> main, final List<String> args)
        throws IOException
    {
        final List<String> command = javaCommand(timerSlackUs, jvm);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(args);
        return new ProcessBuilder(command);
    }

    /**
     * Start a process, killed by the harness's shutdown hook if it is still running when the harness exits.
     *
     * @param builder the process.
     * @return it, started.
     * @throws IOException if it cannot be started.
     */
    static Process start(final ProcessBuilder builder) throws IOException
    {
        final Process process = builder.start();
        STARTED.add(process);
        process.onExit().thenRun(() -> STARTED.remove(process));
        return process;
    }

    /**
     * Start a process whose output (stdout and stderr) goes to a log file.
     *
     * @param builder the process.
     * @param log     its log, appended to.
     * @return it, started.
     * @throws IOException if it cannot be started.
     */
    static Process startLogged(final ProcessBuilder builder, final Path log) throws IOException
    {
        return start(builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())));
    }

    /** SIGTERM to all at once (each settles and closes), SIGKILL to any still running after 30 s. */
    static void stop(final List<Process> processes)
    {
        processes.forEach(Process::destroy);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (final Process p : processes)
        {
            try
            {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS))
                {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }

    /**
     * @param count ports wanted.
     * @return the first of {@code count} consecutive UDP ports free on the loopback address, below the
     *         ephemeral range (32768 and up on Linux), where the registry clients' egress ports are.
     */
    static int freeUdpPorts(final int count)
    {
        return io.vmsched.aeron.LoopbackPorts.freeUdpPorts(count);
    }

    /** @return the 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or "?". */
    static String loadAverage()
    {
        try
        {
            final String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        }
        catch (final IOException | RuntimeException ex)
        {
            return "?";
        }
    }

    /** Sleep, interruptions ignored until the time is up. */
    static void sleepS(final double seconds)
    {
        final long until = System.nanoTime() + (long)(seconds * 1e9);
        long left;
        while ((left = until - System.nanoTime()) > 0)
        {
            LockSupport.parkNanos(left);
        }
    }
}
