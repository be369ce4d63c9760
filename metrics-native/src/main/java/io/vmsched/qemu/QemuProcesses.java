package io.vmsched.qemu;

import java.io.File;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * QEMU processes on this machine, as the tools that start and stop them see them: where the binary is, a tiny VM
 * started with its QMP socket ({@link #startTiny}), the QEMU process that serves a monitor socket ({@link
 * #pidServing}), and every QEMU process whose command line names a path under a directory ({@link #under}, {@link
 * #killUnder}): the copies a {@link QemuVmDriver} started in its run directory are not children of anyone's, and
 * this is how they are found again.
 * <p>
 * Linux only ({@code /proc}). Stateless: all static, threadsafe.
 */
public final class QemuProcesses
{
    /** The binary looked for. */
    public static final String BINARY_NAME = "qemu-system-x86_64";
    /** Debian's package of it. */
    public static final String DEBIAN_PACKAGE = "qemu-system-x86";
    /** sun_path holds 108 bytes with its NUL. */
    public static final int MAX_SOCKET_PATH = 107;

    private static final String PROGRAM_PREFIX = "qemu-system-";
    private static final Path SETSID = Path.of("/usr/bin/setsid");
    private static final File DEV_NULL = new File("/dev/null");
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private QemuProcesses()
    {
    }

    /** @return {@value #BINARY_NAME} on the PATH or in /usr/bin, or null if this machine has none. */
    public static Path binary()
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, BINARY_NAME)))
            {
                return Path.of(dir, BINARY_NAME);
            }
        }
        final Path usual = Path.of("/usr/bin", BINARY_NAME);
        return Files.isExecutable(usual) ? usual : null;
    }

    /** @return the one line that says QEMU is missing and which Debian package brings it. */
    public static String missing()
    {
        return "no " + BINARY_NAME + " on the PATH or in /usr/bin: install Debian's " + DEBIAN_PACKAGE +
            " package (apt-get install " + DEBIAN_PACKAGE + ")";
    }

    /**
     * Start a tiny VM and wait until its QMP socket takes a connection: {@code BINARY -M q35 -m MIB -nodefaults
     * -nographic -display none -qmp unix:SOCKET,server=on,wait=off}, no guest OS (the firmware finds nothing to
     * boot and waits), in a session of its own ({@code setsid}, where there is one: a Ctrl-C at a terminal is
     * the starter's to handle, not the VM's), stdin from {@code /dev/null}, stdout and stderr to the log: no pipe
     * ties it to the starter.
     *
     * @param binary    the QEMU binary.
     * @param socket    its QMP socket (at most {@value #MAX_SOCKET_PATH} bytes).
     * @param log       its output.
     * @param memoryMib its memory, MiB.
     * @param timeout   how long its socket may take.
     * @return the process (QEMU's own: {@code setsid} execs it in place).
     * @throws IOException in one line if it cannot start, exits first (its log's last line) or is not listening in
     *                     time; the process is killed then.
     */
    public static Process startTiny(final Path binary, final Path socket, final Path log, final int memoryMib,
        final Duration timeout) throws IOException
    {
        if (socket.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH)
        {
            throw new IOException("the QMP socket path " + socket.toAbsolutePath() + " is longer than " +
                MAX_SOCKET_PATH + " bytes: use a shorter directory");
        }
        final List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETSID))
        {
            command.add(SETSID.toString());
        }
        command.addAll(List.of(binary.toString(), "-M", "q35", "-m", Integer.toString(memoryMib), "-nodefaults",
            "-nographic", "-display", "none", "-qmp", "unix:" + QemuCommandLine.escape(socket.toAbsolutePath().toString()) +
            ",server=on,wait=off"));
        final Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        boolean ready = false;
        try
        {
            final long deadline = System.nanoTime() + timeout.toNanos();
            // the socket file is there from QEMU's bind, a moment before its listen
            while (!Files.exists(socket) || !accepts(socket))
            {
                if (!process.isAlive())
                {
                    throw new IOException(binary.getFileName() + " exited with " + process.exitValue() +
                        " before its QMP socket " + socket + " was there: " + lastLine(log));
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IOException(binary.getFileName() + "'s QMP socket " + socket + " took no connection within " +
                        timeout.toMillis() + " ms");
                }
                process.waitFor(10, TimeUnit.MILLISECONDS);
            }
            ready = true;
            return process;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + binary.getFileName() + " started", ex);
        }
        finally
        {
            if (!ready)
            {
                kill(process.toHandle());
            }
        }
    }

    /**
     * The QEMU process that serves a monitor on a Unix socket ({@code -qmp unix:PATH,...}, {@code -monitor},
     * {@code -chardev socket,path=PATH} with {@code -mon}), found by reading each process's command line in
     * {@code /proc} (another user's processes may be unreadable: run as their user).
     *
     * @param socket the socket.
     * @return its PID.
     * @throws IOException in one line if no QEMU process, or more than one, names it.
     */
    public static long pidServing(final Path socket) throws IOException
    {
        final Path control = socket.toAbsolutePath().normalize();
        final List<Long> found = new ArrayList<>();
        for (final Path proc : processes())
        {
            final List<String> args = commandLine(proc);
            if (args.isEmpty() || !isQemu(args.get(0)))
            {
                continue;
            }
            final Path cwd = cwd(proc);
            if (QemuCommandLine.strip(args, control, cwd).servesControl())
            {
                found.add(Long.parseLong(proc.getFileName().toString()));
            }
        }
        if (found.isEmpty())
        {
            throw new IOException("no QEMU process serves a monitor at " + control + " (is the VM running, and is " +
                "this the path of its -qmp unix: socket?)");
        }
        if (found.size() > 1)
        {
            throw new IOException("QEMU processes " + found + " all name " + control + " as their monitor's socket: " +
                "give the PID of the one that listens (NAME=SOCKET@PID)");
        }
        return found.get(0);
    }

    /**
     * @param dir a directory.
     * @return the live QEMU processes whose command line has an argument naming a path under it (a socket, a log,
     *         an image), each once.
     */
    public static List<ProcessHandle> under(final Path dir)
    {
        final String prefix = dir.toAbsolutePath().normalize() + File.separator;
        final List<ProcessHandle> found = new ArrayList<>();
        for (final Path proc : processes())
        {
            final List<String> args = commandLine(proc);
            // setsid before its exec is caught too: it is becoming the QEMU
            final int first = !args.isEmpty() && args.get(0).endsWith("setsid") ? 1 : 0;
            if (args.size() <= first || !isQemu(args.get(first)))
            {
                continue;
            }
            for (final String arg : args)
            {
                if (arg.contains(prefix))
                {
                    ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).filter(ProcessHandle::isAlive)
                        .ifPresent(found::add);
                    break;
                }
            }
        }
        return found;
    }

    /**
     * Kill (SIGKILL) every QEMU process {@link #under} a directory and wait for each, a few rounds (a driver may be
     * starting one meanwhile).
     *
     * @param dir a directory.
     * @return how many were killed.
     */
    public static int killUnder(final Path dir)
    {
        int killed = 0;
        for (int round = 0; round < 5; round++)
        {
            final List<ProcessHandle> found = under(dir);
            if (found.isEmpty())
            {
                break;
            }
            for (final ProcessHandle process : found)
            {
                if (kill(process))
                {
                    killed++;
                }
            }
        }
        return killed;
    }

    /** @return whether this call killed it (false: it was gone already). */
    private static boolean kill(final ProcessHandle process)
    {
        final boolean signalled = process.destroyForcibly();
        try
        {
            process.onExit().get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException | ExecutionException ex)
        {
            // a process that outlives SIGKILL for 10 s: the next round, or the caller's check, sees it
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return signalled;
    }

    private static List<Path> processes()
    {
        final List<Path> pids = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
            .chars().allMatch(Character::isDigit)))
        {
            proc.forEach(pids::add);
        }
        catch (final IOException ex)
        {
            // no /proc: no process found
        }
        return pids;
    }

    private static List<String> commandLine(final Path proc)
    {
        try
        {
            return QemuCommandLine.split(Files.readAllBytes(proc.resolve("cmdline")));
        }
        catch (final IOException ex)
        {
            return List.of(); // exited meanwhile, or another user's
        }
    }

    private static Path cwd(final Path proc)
    {
        try
        {
            return Files.readSymbolicLink(proc.resolve("cwd"));
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return null;
        }
    }

    private static boolean isQemu(final String program)
    {
        final Path file = Path.of(program).getFileName();
        return null != file && file.toString().startsWith(PROGRAM_PREFIX);
    }

    /**
     * @param socket a Unix socket's path.
     * @return whether something takes a connection there now (QEMU binds its QMP socket a moment before it listens).
     */
    public static boolean accepts(final Path socket)
    {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket)))
        {
            return channel.isConnected();
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /** @return a process's log's last line that is not blank, or what stops it being read (for one-line errors). */
    static String lastLine(final Path log)
    {
        try
        {
            final List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--)
            {
                if (!lines.get(i).isBlank())
                {
                    return lines.get(i).strip();
                }
            }
            return "its log " + log + " is empty";
        }
        catch (final IOException ex)
        {
            return "its log " + log + " cannot be read: " + ex.getMessage();
        }
    }
}
