package io.vmsched.qemu;

import io.vmsched.vm.VmHandle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A JVM of its own for {@code QemuSparesTest}: a {@link QemuVmDriver} keeping 2 spares per spec prepares a copy of
 * a spec (so it sees the spec), waits until its 2 spares are ready, then hands one out as {@code handed}'s copy
 * (linked and listening, as {@code prepareIncoming} leaves it before the host journals it), prints
 * {@code READY FIRST_PID HANDED_PID SPARE_PID} and waits until the test kills this JVM: a crash that leaves a
 * spare never handed out and a copy never journaled.
 * <p>
 * {@code SpareCrashChild RUN_DIR SPEC_FILE}.
 */
public final class SpareCrashChild
{
    private SpareCrashChild()
    {
    }

    /**
     * @param args run directory, file holding the spec.
     * @throws Exception on any failure (the test reads it from stderr).
     */
    public static void main(final String[] args) throws Exception
    {
        final QemuVmDriver driver = new QemuVmDriver(Path.of(args[0]), QemuVmDriver.DEFAULT_BIND,
            QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT, QemuVmDriver.DEFAULT_QUIT_TIMEOUT, 2, 4);
        final byte[] spec = Files.readAllBytes(Path.of(args[1]));
        final VmHandle first = driver.prepareIncoming("first", spec);
        driver.remove(first); // the migration that never came: its spares start at once
        QemuVm.until("2 spares ready", () -> driver.spares().size() >= 2 && driver.sparesStarting() == 0);
        final List<ProcessHandle> spares = driver.spares();
        final VmHandle handed = driver.prepareIncoming("handed", spec);
        final long left = spares.stream().mapToLong(ProcessHandle::pid).filter(pid -> pid != handed.pid()).findFirst()
            .orElseThrow();
        System.out.println("READY " + first.pid() + " " + handed.pid() + " " + left);
        System.out.flush();
        // neither the driver nor its processes are closed: the JVM is killed with them running
        while (System.in.read() >= 0)
        {
            // wait
        }
    }
}
