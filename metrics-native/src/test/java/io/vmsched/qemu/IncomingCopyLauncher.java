package io.vmsched.qemu;

import io.vmsched.vm.VmHandle;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM of its own for {@code QemuVmDriverTest}: start an incoming copy with a {@link QemuVmDriver}, print
 * {@code READY pid uri socket}, then wait on stdin until the test kills this JVM (or closes stdin).
 * <p>
 * {@code IncomingCopyLauncher RUN_DIR NAME SPEC_FILE}.
 */
public final class IncomingCopyLauncher
{
    private IncomingCopyLauncher()
    {
    }

    /**
     * @param args run directory, VM name, file holding the spec.
     * @throws Exception on any failure (the test reads it from stderr).
     */
    public static void main(final String[] args) throws Exception
    {
        // no spares: this JVM is killed without close, and a spare it left would be no one's to quit
        final QemuVmDriver driver = new QemuVmDriver(Path.of(args[0]), QemuVmDriver.DEFAULT_BIND,
            QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT, QemuVmDriver.DEFAULT_QUIT_TIMEOUT, 0, 0);
        final VmHandle handle = driver.prepareIncoming(args[1], Files.readAllBytes(Path.of(args[2])));
        System.out.println("READY " + handle.pid() + " " + handle.incomingUri() + " " + handle.control());
        System.out.flush();
        // neither the driver nor the copy is closed: the JVM is killed with the copy running
        while (System.in.read() >= 0)
        {
            // wait
        }
    }
}
