package io.vmsched.qemu;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tiny QEMU VM for tests: {@code qemu-system-x86_64 -M q35 -m 64 -nodefaults -nographic -display none} (or
 * another memory size and more arguments), no guest OS (the firmware runs, nothing answers the balloon), its QMP
 * on a Unix socket; or, {@link #boot}ed, a {@link GuestKernel} Linux guest whose own balloon driver answers.
 * {@link #close} kills it and waits for it.
 */
final class QemuVm implements AutoCloseable
{
    static final String BINARY_NAME = "qemu-system-x86_64";
    static final String MISSING = "no " + BINARY_NAME + " on the PATH or in /usr/bin: install Debian's " +
        "qemu-system-x86 package to run this test (.ci/run does)";

    final Process process;
    final Path socket;
    final Path log;
    /** The guest's serial console ({@code -serial file:}), null without a guest OS. */
    final Path serial;

    private QemuVm(final Process process, final Path socket, final Path log, final Path serial)
    {
        this.process = process;
        this.socket = socket;
        this.log = log;
        this.serial = serial;
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
        return launch(command, socket, log, null);
    }

    /**
     * Boot a Linux guest: {@code -kernel} and {@code -initrd} (written into {@code dir}) of {@code kernel}, its
     * console on the first serial port, written to a file; a {@code virtio-balloon-pci} device (id
     * {@code balloon0}); no reboot (a guest that panics ends QEMU). Waits until its QMP socket takes a connection
     * and the guest printed {@link GuestKernel#READY}.
     *
     * @param binary    the QEMU binary.
     * @param dir       where its socket, logs and initramfs go.
     * @param name      their name.
     * @param kernel    the guest.
     * @param memoryMib the VM's memory.
     * @param deadline  how long the boot may take.
     * @throws IOException with the console's last lines if the guest failed, QEMU exited, or the deadline passed.
     */
    static QemuVm boot(final String binary, final Path dir, final String name, final GuestKernel kernel,
        final int memoryMib, final Duration deadline) throws IOException
    {
        final long start = System.nanoTime();
        final Path socket = dir.resolve(name + ".sock");
        final Path serial = dir.resolve(name + ".serial");
        final Path initrd = kernel.writeInitramfs(dir.resolve(name + ".initrd"));
        final List<String> command = List.of(binary, "-M", "q35", "-m", Integer.toString(memoryMib), "-nodefaults",
            "-nographic", "-display", "none", "-no-reboot", "-kernel", kernel.vmlinuz.toString(), "-initrd",
            initrd.toString(), "-append", "console=ttyS0 panic=-1", "-serial", "file:" + serial,
            "-device", "virtio-balloon-pci,id=balloon0", "-qmp", "unix:" + socket + ",server=on,wait=off");
        final QemuVm vm = launch(command, socket, dir.resolve(name + ".log"), serial);
        try
        {
            vm.awaitConsole(start + deadline.toNanos(), deadline);
            return vm;
        }
        catch (final IOException | RuntimeException ex)
        {
            vm.close();
            throw ex;
        }
    }

    /** Wait until the guest's console says it is ready, it failed, QEMU exits, or the deadline passes. */
    private void awaitConsole(final long deadlineNs, final Duration deadline) throws IOException
    {
        try
        {
            while (true)
            {
                final String console = console();
                if (console.contains(GuestKernel.READY))
                {
                    return;
                }
                final int failed = console.indexOf(GuestKernel.FAILED);
                if (failed >= 0)
                {
                    final int end = console.indexOf('\n', failed);
                    throw new IOException("the guest " + console.substring(failed + "vmsched-guest: ".length(),
                        end < 0 ? console.length() : end).strip() + "; its console:\n" + lastLines(console, 40));
                }
                if (!process.isAlive())
                {
                    throw new IOException("QEMU exited with " + process.exitValue() + " before the guest was ready: " +
                        Files.readString(log).strip() + "; its console:\n" + lastLines(console, 40));
                }
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new IOException("the guest did not print \"" + GuestKernel.READY + "\" within " +
                        deadline.toSeconds() + " s; its console:\n" + lastLines(console, 40));
                }
                process.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }

    /** @return what the guest wrote on its console so far ("" before anything, or without a guest). */
    String console() throws IOException
    {
        return null == serial || !Files.exists(serial) ? "" :
            new String(Files.readAllBytes(serial), StandardCharsets.UTF_8).replace("\r", "");
    }

    private static String lastLines(final String text, final int count)
    {
        final String[] lines = text.strip().split("\n");
        return String.join("\n", Arrays.asList(lines).subList(Math.max(0, lines.length - count), lines.length));
    }

    private static QemuVm launch(final List<String> command, final Path socket, final Path log, final Path serial)
        throws IOException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        final QemuVm vm = new QemuVm(process, socket, log, serial);
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
            while (!QemuProcesses.accepts(socket))
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

    /** Wait for a condition with a 60 s deadline (no fixed sleeps): fails the test with what it waited for. */
    static void until(final String what, final java.util.function.BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                org.junit.jupiter.api.Assertions.fail("not within 60 s: " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }
    }
}
