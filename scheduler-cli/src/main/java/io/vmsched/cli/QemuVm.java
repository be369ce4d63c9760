package io.vmsched.cli;

import io.vmsched.metrics.MetricsAgent;
import io.vmsched.qemu.QemuProcesses;
import io.vmsched.qemu.QemuVmDriver;
import io.vmsched.vm.VmDriverException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A running QEMU VM that {@code vmsched node --qemu NAME=SOCKET[@PID]} adopts: its id, name, QMP socket and
 * process (found in {@code /proc} by the socket when no PID is given, {@link QemuProcesses#pidServing}).
 * Immutable.
 *
 * @param vmId   its id in the cluster.
 * @param name   its name.
 * @param socket its QMP socket, absolute.
 * @param pid    its QEMU process.
 */
record QemuVm(long vmId, String name, Path socket, long pid)
{
    /** The pid of a VM whose check was skipped: adopted at an earlier start of the node. */
    static final long UNCHECKED = -1;

    private static final Pattern WITH_PID = Pattern.compile("(.+)@(\\d+)");

    /** @return the metrics agent's binding of its process (CPU, memory and I/O sampled, shown by {@code vmsched stat}). */
    MetricsAgent.Binding binding()
    {
        return new MetricsAgent.Binding(vmId, name, pid);
    }

    /**
     * Parse every {@code --qemu} and check each VM the way the node's driver will adopt it (a QEMU driver of its
     * own, closed again: the VMs run on, nothing is written): its socket speaks QMP, its process is the QEMU behind
     * it, no two name the same VM.
     *
     * @param specs  the flags' values, {@code NAME=SOCKET} or {@code NAME=SOCKET@PID}.
     * @param firstId the first VM's id; the others follow.
     * @param runDir the driver's run directory (not made).
     * @return the VMs, in order.
     * @throws IllegalArgumentException in one line naming the flag's value: malformed, no such socket, no QEMU
     *                                  process serves it, or the driver's reason (not QMP, not that process,
     *                                  adopted twice).
     */
    static List<QemuVm> parse(final List<String> specs, final long firstId, final Path runDir)
    {
        return parse(specs, firstId, runDir, i -> false);
    }

    /**
     * {@link #parse(List, long, Path)}, but the VMs {@code adoptedBefore} names are only parsed, not checked: a node
     * adopted them at an earlier start, and they may have left it since by live migration (their process, and
     * socket, gone). Such a VM gets pid {@link #UNCHECKED}.
     *
     * @param specs         the flags' values.
     * @param firstId       the first VM's id.
     * @param runDir        the driver's run directory (not made).
     * @param adoptedBefore the positions, in {@code specs}, of the VMs adopted at an earlier start.
     * @return the VMs, in order.
     * @throws IllegalArgumentException in one line naming the flag's value.
     */
    static List<QemuVm> parse(final List<String> specs, final long firstId, final Path runDir,
        final java.util.function.IntPredicate adoptedBefore)
    {
        final List<QemuVm> vms = new ArrayList<>();
        if (specs.isEmpty())
        {
            return vms;
        }
        // a check only: no spares (the node's own driver keeps them)
        try (QemuVmDriver check = new QemuVmDriver(runDir, QemuVmDriver.DEFAULT_BIND, io.vmsched.qemu.QmpClient.DEFAULT_TIMEOUT,
            QemuVmDriver.DEFAULT_START_TIMEOUT, QemuVmDriver.DEFAULT_QUIT_TIMEOUT, 0, 0))
        {
            for (int i = 0; i < specs.size(); i++)
            {
                final String spec = specs.get(i);
                final int eq = spec.indexOf('=');
                if (eq <= 0 || eq == spec.length() - 1)
                {
                    throw new IllegalArgumentException("--qemu '" + spec + "': expected NAME=SOCKET or NAME=SOCKET@PID");
                }
                final String name = spec.substring(0, eq);
                if (!name.matches("[A-Za-z0-9_.-]{1,64}"))
                {
                    throw new IllegalArgumentException("--qemu '" + spec + "': a name is 1-64 letters, digits, '_', '.' or '-'");
                }
                String where = spec.substring(eq + 1);
                long pid = -1;
                final Matcher withPid = WITH_PID.matcher(where);
                if (withPid.matches() && !exists(where)) // a socket whose own name ends in @DIGITS is taken whole
                {
                    where = withPid.group(1);
                    try
                    {
                        pid = Long.parseLong(withPid.group(2));
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new IllegalArgumentException("--qemu '" + spec + "': the PID after '@' is too large");
                    }
                }
                final Path socket;
                try
                {
                    socket = Path.of(where).toAbsolutePath().normalize();
                }
                catch (final InvalidPathException ex)
                {
                    throw new IllegalArgumentException("--qemu '" + spec + "': not a path: " + ex.getReason());
                }
                if (adoptedBefore.test(i))
                {
                    vms.add(new QemuVm(firstId + i, name, socket, UNCHECKED));
                    continue;
                }
                if (!Files.exists(socket))
                {
                    throw new IllegalArgumentException("--qemu '" + spec + "': no socket at " + socket);
                }
                if (pid < 0)
                {
                    try
                    {
                        pid = QemuProcesses.pidServing(socket);
                    }
                    catch (final IOException ex)
                    {
                        throw new IllegalArgumentException("--qemu '" + spec + "': " + ex.getMessage());
                    }
                }
                try
                {
                    check.adopt(name, socket, pid);
                }
                catch (final VmDriverException ex)
                {
                    throw new IllegalArgumentException("--qemu '" + spec + "': " + ex.getMessage());
                }
                vms.add(new QemuVm(firstId + i, name, socket, pid));
            }
        }
        return vms;
    }

    private static boolean exists(final String path)
    {
        try
        {
            return Files.exists(Path.of(path));
        }
        catch (final InvalidPathException ex)
        {
            return false;
        }
    }
}
