package io.vmsched.qemu;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tiny QEMU VM for tests: {@code qemu-system-x86_64 -M q35 -m 64 -nodefaults -nographic -display none} (or
 * another memory size and more arguments), no
 * guest OS (the firmware runs, nothing answers the balloon), its QMP on a Unix socket. {@link #close} kills it
 * and waits for it.
 */
final class QemuVm implements AutoCloseable
{
    static final String BINARY_NAME = "qemu-system-x86_64";
    static final String MISSING = "no " + BINARY_NAME + " on the PATH or in /usr/bin: install Debian's " +
        "qemu-system-x86 package to run this test (.ci/run does)";

    final Process process;
    final Path socket;
    final Path log;

    private QemuVm(final Process process, final Path socket, final Path log)
    {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** @return the QEMU binary, or null if this machine has none. */
    static String binary()
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, BINARY_NAME)))
            {
                return Path.of(dir, BINARY_NAME).toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/bin", BINARY_NAME)) ? "/usr/bin/" + BINARY_NAME : null;
    }

    /**
     * Start a VM and wait until its QMP socket is there.
     *
     * @param binary  the QEMU binary.
     * @param dir     where its socket and log go.
     * @param name    the socket's and log's name.
     * @param balloon whether it has a {@code virtio-balloon-pci} device (id {@code balloon0}).
     */
    static QemuVm start(final String binary, final Path dir, final String name, final boolean balloon) throws IOException
    {
        return start(binary, dir, name, 64, balloon ? List.of("-device", "virtio-balloon-pci,id=balloon0") : List.of());
    }

    /**
     * Start a VM of a given memory size, with more arguments after the usual ones (before its {@code -qmp}), and
     * wait until its QMP socket takes a connection.
     *
     * @param binary    the QEMU binary.
     * @param dir       where its socket and log go.
     * @param name      the socket's and log's name.
     * @param memoryMib its memory, MiB.
     * @param extra     more arguments, e.g. {@code -S}.
     */
    static QemuVm start(final String binary, final Path dir, final String name, final int memoryMib,
        final List<String> extra) throws IOException
    {
        final Path socket = dir.resolve(name + ".sock");
        final Path log = dir.resolve(name + ".log");
        final List<String> command = new ArrayList<>(List.of(binary, "-M", "q35", "-m", Integer.toString(memoryMib),
            "-nodefaults", "-nographic", "-display", "none"));
        command.addAll(extra);
        command.addAll(List.of("-qmp", "unix:" + socket + ",server=on,wait=off"));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        final QemuVm vm = new QemuVm(process, socket, log);
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket))
            {
                if (!process.isAlive())
                {
                    throw new IOException("QEMU exited with " + process.exitValue() + " before its QMP socket was there: " +
                        Files.readString(log).strip());
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IOException("QEMU's QMP socket " + socket + " not there within 30 s");
                }
                process.waitFor(10, TimeUnit.MILLISECONDS);
            }
            // the socket file is there from QEMU's bind, a moment before its listen: connect once to be sure
            while (!accepts(socket))
            {
                if (!process.isAlive() || System.nanoTime() - deadline > 0)
                {
                    throw new IOException("QEMU's QMP socket " + socket + " took no connection within 30 s: " +
                        Files.readString(log).strip());
                }
                process.waitFor(10, TimeUnit.MILLISECONDS);
            }
            return vm;
        }
        catch (final InterruptedException ex)
        {
            vm.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
        catch (final IOException | RuntimeException ex)
        {
            vm.close();
            throw ex;
        }
    }

    private static boolean accepts(final Path socket)
    {
        try (java.nio.channels.SocketChannel channel = java.nio.channels.SocketChannel.open(
            java.net.UnixDomainSocketAddress.of(socket)))
        {
            return channel.isConnected();
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /** Kill it (SIGKILL) and wait for it. */
    void kill()
    {
        process.destroyForcibly();
        try
        {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close()
    {
        kill();
    }
}
